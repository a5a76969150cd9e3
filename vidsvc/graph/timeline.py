"""Timeline arithmetic (docs/contract.md §3): derive omitted fields, place clips, check every rule.

All times are integer milliseconds. `plan()` needs the probed duration of every source whose
length is not given; `check()` runs the same rules on what is known before probing (at POST).
Violations are InvalidTimeline with a message naming the clip and the field.

The rules about counts, overlays and audio live in timeline_rules.py.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from vidsvc import spec
from vidsvc.graph import extend, look, narration, pictures, tracks, window
from vidsvc.graph.look import Look
from vidsvc.graph.meeting import check_join, check_transition_room, transition_ok
from vidsvc.graph.narration import Heard
from vidsvc.graph.slots import ClipSlot, Timeline
from vidsvc.graph.timeline_rules import (
    Issues,
    Limits,
    OverlaySlot,
    check_audio,
    check_counts,
    check_texts,
    clip_length,
    place_overlays,
    secs,
)

__all__ = ["ClipSlot", "Limits", "OverlaySlot", "Timeline", "check", "plan", "secs"]

#: A trim may end this far past the probed end (containers round durations); tpad fills it.
TRIM_TOLERANCE_MS = 40


@dataclass(slots=True)
class _Facts:
    """What placing the clips reads (probes, narrations) and what it reports besides issues."""

    durations: Mapping[str, int]
    heard: Mapping[str, Heard]
    issues: Issues
    warnings: list[str]


def plan(
    comp: spec.Composition,
    durations: Mapping[str, int],
    limits: Limits,
    heard: Mapping[str, Heard] | None = None,
) -> Timeline:
    """The full timeline; every clip whose length is not given must have its source probed,
    and every narration measured (`heard`)."""
    facts = _Facts(durations, heard or {}, Issues(), [])
    _check_narrations(comp, facts, limits)
    slots = _place_clips(comp, facts, strict=True)
    facts.issues.raise_any()
    timeline = _finish(comp, [s for s in slots if s is not None], durations, limits)
    facts.warnings += tracks.check(comp.audio, timeline.duration_ms, durations, facts.issues)
    facts.issues.raise_any()
    return replace(timeline, warnings=tuple(facts.warnings))


def check(comp: spec.Composition, limits: Limits) -> None:
    """The rules that need no probe (at submit); the rest are checked by plan() later."""
    issues = Issues()
    slots = _place_clips(comp, _Facts({}, {}, issues, []), strict=False)
    issues.raise_any()
    if all(s is not None for s in slots):
        _finish(comp, [s for s in slots if s is not None], {}, limits)
    else:
        check_counts(comp, limits, issues)
        check_texts(comp, limits, issues)
        issues.raise_any()


def _finish(
    comp: spec.Composition,
    slots: list[ClipSlot],
    durations: Mapping[str, int],
    limits: Limits,
) -> Timeline:
    issues = Issues()
    check_counts(comp, limits, issues)
    total = max((s.end_ms for s in slots), default=0)
    # an animated image's own cap first: its message is the one a 10-minute GIF should get
    shown = window.rendered_ms(comp.output, total)
    if comp.output.animated and shown > limits.max_animated_ms:
        issues.add(
            "output.format",
            f"a {comp.output.format} is at most ANIMATED_MAX_SECONDS "
            f"({secs(limits.max_animated_ms)} s) long and this one would be {secs(shown)} s: "
            "render a part of it (output.range) or make the composition shorter",
        )
    if total > limits.max_duration_ms:
        issues.add(
            "clips",
            f"the timeline is {secs(total)} s long, over MAX_DURATION_SECONDS "
            f"({secs(limits.max_duration_ms)} s)",
        )
    if slots and total * comp.output.fps < 1000:  # no frame to encode, nor a thumbnail
        issues.add(
            "clips",
            f"the timeline is {secs(total)} s long, shorter than one frame at "
            f"{comp.output.fps} fps",
        )
    check_texts(comp, limits, issues)
    if slots:
        window.check(comp.output, total, issues)
    overlays = place_overlays(comp, total, issues)
    if not issues.items:
        pictures.place(comp, total, durations)  # image/video overlays: raises InvalidTimeline
    check_audio(comp.audio, total, durations, issues)
    issues.raise_any()
    return Timeline(clips=tuple(slots), overlays=overlays, duration_ms=total)


def _check_narrations(comp: spec.Composition, facts: _Facts, limits: Limits) -> None:
    """A narration longer than the longest timeline is refused by its own field."""
    for i, clip in enumerate(comp.clips):
        heard = facts.heard.get(clip.voiceover_url or "")
        if heard is not None and heard.audible_ms > limits.max_duration_ms:
            facts.issues.add(
                f"clips[{i}].voiceover_url",
                f"the narration speaks for {secs(heard.audible_ms)} s, over "
                f"MAX_DURATION_SECONDS ({secs(limits.max_duration_ms)} s)",
            )


def _place_clips(comp: spec.Composition, facts: _Facts, *, strict: bool) -> list[ClipSlot | None]:
    """Place every clip; None where an unprobed source leaves its length unknown (not strict)."""
    slots: list[ClipSlot | None] = []
    prev: ClipSlot | None = None
    if facts.issues.items:
        return slots
    for i, clip in enumerate(comp.clips):
        placed = _place_one(i, clip, prev, facts, look.of(clip, comp), strict=strict)
        if placed is not None:
            placed = _narrated(placed, clip, comp, facts)
        if placed is not None and prev is not None and clip.transition == "fade":
            slots[-1] = prev = _with_fade_out(prev, placed.transition_ms)
        slots.append(placed)
        prev = placed if (placed is not None or not strict) else prev
    check_transition_room(slots, facts.issues)
    return slots


def _narrated(
    slot: ClipSlot, clip: spec.Clip, comp: spec.Composition, facts: _Facts
) -> ClipSlot | None:
    """The slot with its narration placed (when measured) and what the plan did noted."""
    p = f"clips[{slot.index}]"
    if slot.extended_ms:
        facts.warnings.append(extend.warning(p, slot.extend, slot.extended_ms))
    heard = facts.heard.get(clip.voiceover_url or "")
    if heard is None:
        return slot
    volume = (
        comp.audio.voiceover_volume if clip.voiceover_volume is None else clip.voiceover_volume
    )
    voice = narration.place(p, clip, slot.dur_ms, heard, volume, facts.issues)
    if voice is None:
        return None
    facts.warnings += narration.warnings(p, heard, voice)
    return replace(slot, voice=voice)


def _with_fade_out(slot: ClipSlot, fade_ms: int) -> ClipSlot:
    return replace(slot, look=replace(slot.look, fade_out_ms=fade_ms))


def _place_one(
    i: int,
    clip: spec.Clip,
    prev: ClipSlot | None,
    facts: _Facts,
    resolved: Look,
    *,
    strict: bool,
) -> ClipSlot | None:
    p, issues = f"clips[{i}]", facts.issues
    trim_start = clip.trim_start_ms or 0
    source_ms = facts.durations.get(clip.url)
    if clip.duration_from_voiceover:
        heard = facts.heard.get(clip.voiceover_url or "")
        given = narration.voiced_length(clip, heard) if heard else None
    else:
        given = clip_length(p, clip, trim_start, source_ms, issues, extend.mode(clip) is not None)
    td = clip.transition_ms if clip.transition != "cut" else 0
    if not transition_ok(p, i, clip, td, issues):
        return None
    start = _start(clip, given, prev, i, td if spec.is_crossfade(clip.transition) else 0)
    if start is None:
        if strict and not issues.items:
            issues.add(f"{p}.start_time", "cannot be derived (the previous clip is unplaced)")
        return None
    length = _length(p, clip, start, given, issues, strict=strict)
    if length is None:
        return None
    over = _over(p, clip, trim_start, length, source_ms, issues)
    if over is None:
        return None
    if prev is not None and not check_join(p, clip, start, td, prev, issues):
        return None
    return ClipSlot(
        index=i,
        source=clip.url,
        in_ms=trim_start,
        dur_ms=length,
        start_ms=start,
        transition=clip.transition,
        transition_ms=td,
        volume=clip.volume,
        look=replace(resolved, extended=True) if over else resolved,
        extend=extend.mode(clip) or "hold",
        extended_ms=over,
    )


def _over(
    p: str, clip: spec.Clip, trim_start: int, length: int, source_ms: int | None, issues: Issues
) -> int | None:
    """How much longer than its source range the clip is (0 unless it may outrun it); None,
    with the reason noted, when its trim or length is past the source's end."""
    if source_ms is None:  # a still, or not probed yet
        return 0
    end = source_ms if clip.trim_end_ms is None else clip.trim_end_ms
    if extend.mode(clip) is None:
        end = trim_start + length
    if end > source_ms + TRIM_TOLERANCE_MS:
        issues.add(
            f"{p}.trim_end",
            f"trim_end {secs(end)} is past the source's end ({secs(source_ms)} s)",
        )
        return None
    if trim_start >= end:
        issues.add(
            f"{p}.trim_start",
            f"trim_start {secs(trim_start)} is past the source's end ({secs(source_ms)} s)",
        )
        return None
    over = extend.plan(p, clip, length, end - trim_start, issues)
    return over if over is None or over > TRIM_TOLERANCE_MS else 0


def _length(
    p: str, clip: spec.Clip, start: int, given: int | None, issues: Issues, *, strict: bool
) -> int | None:
    """The clip's length on the timeline: as given (trim, duration, probe), else up to its
    end_time; None, with the reason noted, when neither tells."""
    if start < 0 and clip.start_ms is None and clip.end_ms is not None:
        # end_time alone, earlier than the clip is long: it would start before 0
        issues.add(
            f"{p}.end_time",
            f"end_time {secs(clip.end_ms)} is earlier than the clip's length allows",
        )
        return None
    if given is None and clip.end_ms is not None:
        if clip.end_ms - start <= 0:
            issues.add(f"{p}.end_time", f"end_time {secs(clip.end_ms)} is not after its start")
            return None
        return clip.end_ms - start
    if given is None and strict and not issues.items:
        issues.add(f"{p}.url", "the source's duration is unknown")
    return given


def _start(
    clip: spec.Clip, length: int | None, prev: ClipSlot | None, i: int, overlap: int
) -> int | None:
    if clip.start_ms is not None:
        return clip.start_ms
    if clip.end_ms is not None and length is not None:
        return clip.end_ms - length
    if i == 0:
        return 0
    return None if prev is None else prev.end_ms - overlap
