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
from vidsvc.graph import look, pictures
from vidsvc.graph.look import Look
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipSlot:
    index: int
    source: str
    in_ms: int  #: where the trim starts in the source
    dur_ms: int  #: length on the output timeline (= the trim's length)
    start_ms: int  #: placement on the output timeline
    transition: str  #: into this clip
    transition_ms: int
    volume: float
    look: Look  #: fit, motion, colour and fades, resolved (graph/look.py)

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.dur_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    clips: tuple[ClipSlot, ...]
    overlays: tuple[OverlaySlot, ...]
    duration_ms: int


def plan(comp: spec.Composition, durations: Mapping[str, int], limits: Limits) -> Timeline:
    """The full timeline; every clip whose length is not given must have its source probed."""
    issues = Issues()
    slots = _place_clips(comp, durations, issues, strict=True)
    issues.raise_any()
    return _finish(comp, [s for s in slots if s is not None], durations, limits)


def check(comp: spec.Composition, limits: Limits) -> None:
    """The rules that need no probe (at submit); the rest are checked by plan() later."""
    issues = Issues()
    slots = _place_clips(comp, {}, issues, strict=False)
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
    overlays = place_overlays(comp, total, issues)
    if not issues.items:
        pictures.place(comp, total, durations)  # image/video overlays: raises InvalidTimeline
    check_audio(comp.audio, total, durations, issues)
    issues.raise_any()
    return Timeline(clips=tuple(slots), overlays=overlays, duration_ms=total)


def _place_clips(
    comp: spec.Composition,
    durations: Mapping[str, int],
    issues: Issues,
    *,
    strict: bool,
) -> list[ClipSlot | None]:
    """Place every clip; None where an unprobed source leaves its length unknown (not strict)."""
    slots: list[ClipSlot | None] = []
    prev: ClipSlot | None = None
    for i, clip in enumerate(comp.clips):
        placed = _place_one(i, clip, prev, durations, issues, look.of(clip, comp), strict=strict)
        if placed is not None and prev is not None and clip.transition == "fade":
            slots[-1] = prev = _with_fade_out(prev, placed.transition_ms)
        slots.append(placed)
        prev = placed if (placed is not None or not strict) else prev
    _check_transition_room(slots, issues)
    return slots


def _with_fade_out(slot: ClipSlot, fade_ms: int) -> ClipSlot:
    return replace(slot, look=replace(slot.look, fade_out_ms=fade_ms))


def _place_one(
    i: int,
    clip: spec.Clip,
    prev: ClipSlot | None,
    durations: Mapping[str, int],
    issues: Issues,
    resolved: Look,
    *,
    strict: bool,
) -> ClipSlot | None:
    p = f"clips[{i}]"
    trim_start = clip.trim_start_ms or 0
    source_ms = durations.get(clip.url)
    given = clip_length(p, clip, trim_start, source_ms, issues)
    td = clip.transition_ms if clip.transition != "cut" else 0
    if not _transition_ok(p, i, clip, td, issues):
        return None
    start = _start(clip, given, prev, i, td if spec.is_crossfade(clip.transition) else 0)
    if start is None:
        if strict and not issues.items:
            issues.add(f"{p}.start_time", "cannot be derived (the previous clip is unplaced)")
        return None
    length = _length(p, clip, start, given, issues, strict=strict)
    if length is None:
        return None
    if source_ms is not None and trim_start + length > source_ms + TRIM_TOLERANCE_MS:
        issues.add(
            f"{p}.trim_end",
            f"trim_end {secs(trim_start + length)} is past the source's end ({secs(source_ms)} s)",
        )
        return None
    if prev is not None and not _check_join(p, clip, start, td, prev, issues):
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
        look=resolved,
    )


def _transition_ok(p: str, i: int, clip: spec.Clip, td: int, issues: Issues) -> bool:
    """A crossfade needs a clip before it; a blend or a fade needs a length."""
    crossfade = spec.is_crossfade(clip.transition)
    if i == 0 and crossfade:
        issues.add(
            f"{p}.transition_in",
            f"the first clip cannot use {clip.transition} (there is nothing to blend "
            "with); use fade or cut",
        )
        return False
    if (crossfade or clip.transition == "fade") and td <= 0:
        issues.add(f"{p}.transition_duration", "must be above 0 for this transition")
        return False
    return True


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


def _check_join(
    p: str, clip: spec.Clip, start: int, td: int, prev: ClipSlot, issues: Issues
) -> bool:
    """Overlaps only as crossfades (of exactly the transition's length); gaps are fine."""
    if spec.is_crossfade(clip.transition):
        expected = prev.end_ms - td
        if abs(start - expected) > 1:
            issues.add(
                f"{p}.start_time",
                f"a {secs(td)} s {clip.transition} must start {secs(td)} s before "
                f"clips[{prev.index}] ends, at {secs(expected)}, not {secs(start)}",
            )
            return False
    elif start < prev.end_ms - 1:
        issues.add(
            f"{p}.start_time",
            f"{secs(start)} overlaps clips[{prev.index}] (which ends at "
            f"{secs(prev.end_ms)}); overlaps are allowed only as crossfades",
        )
        return False
    return True


def _check_transition_room(slots: list[ClipSlot | None], issues: Issues) -> None:
    """A transition may not be longer than either clip, nor meet the next one inside a clip."""
    for i, slot in enumerate(slots):
        if slot is None or slot.transition == "cut":
            continue
        p = f"clips[{i}].transition_duration"
        prev = slots[i - 1] if i > 0 else None
        for other in (slot, prev):
            if other is not None and slot.transition_ms > other.dur_ms:
                issues.add(
                    p,
                    f"{secs(slot.transition_ms)} s is longer than clips[{other.index}] "
                    f"({secs(other.dur_ms)} s)",
                )
                return
        nxt = slots[i + 1] if i + 1 < len(slots) else None
        out_ms = nxt.transition_ms if nxt is not None and nxt.transition != "cut" else 0
        if slot.transition_ms + out_ms > slot.dur_ms:
            issues.add(
                p,
                f"the transitions into and out of clips[{i}] "
                f"({secs(slot.transition_ms)} s + {secs(out_ms)} s) are longer than "
                f"the clip ({secs(slot.dur_ms)} s)",
            )
            return
