"""Beat sync (audio.beat_sync): every cut and transition start moved to the nearest beat.

Given the planned timeline and the music's beats on the output clock (a fact, like a probe),
each boundary (a cut, the start of a crossfade, a fade through black, a clip after a gap) moves
to the nearest beat within `max_shift` (default: half a beat of the grid used). A boundary moves
by lengthening or shortening the clip before it within its source (its trim start stays, so the
picture at each clip's start is what was asked for); after a gap the clip itself moves. Where
the source cannot give the length (it ends too soon, or a transition would not fit) the cut is
left where it falls and the report says why. The last clip keeps the planned end when its source
allows. Overlays keep their times.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from vidsvc import spec
from vidsvc.graph.timeline import TRIM_TOLERANCE_MS, ClipSlot, Timeline


def grid(beats_ms: Sequence[int], sync: spec.BeatSync) -> list[int]:
    """Every `every`-th beat, from the first."""
    return list(beats_ms[:: sync.every])


def max_shift_ms(beats: Sequence[int], sync: spec.BeatSync) -> int:
    if sync.max_shift_ms is not None:
        return sync.max_shift_ms
    if len(beats) < 2:
        return 0
    gaps = sorted(b - a for a, b in itertools.pairwise(beats))
    return gaps[len(gaps) // 2] // 2  # half the median beat of the grid


def nearest(beats: Sequence[int], t: int) -> int | None:
    i = bisect.bisect_left(beats, t)
    near = [beats[j] for j in (i - 1, i) if 0 <= j < len(beats)]
    return min(near, key=lambda b: abs(b - t)) if near else None


def _fits(slot: ClipSlot, dur: int, source_ms: int, next_td: int) -> str | None:
    """Why `slot` cannot last `dur` ms, or None if it can."""
    if slot.in_ms + dur > source_ms + TRIM_TOLERANCE_MS:
        return f"clips[{slot.index}]'s source ends at {source_ms / 1000:g} s"
    if dur <= slot.transition_ms + next_td or dur <= 0:
        return f"clips[{slot.index}] would be shorter than its transitions"
    return None


def _kept(
    i: int,
    prev: ClipSlot,
    slot: ClipSlot,
    target: int | None,
    planned: int,
    limit: int,
    sources_ms: Mapping[str, int],
) -> tuple[str | None, ClipSlot]:
    """Why boundary i stays where it was planned (None: it moves onto `target`), and the clip
    before it as the move leaves it (its length reaching the beat)."""
    if target is None:
        return "the music has no steady beat", prev
    if abs(target - planned) > limit:
        return f"no beat within {limit / 1000:g} s", prev
    if slot.start_ms > prev.end_ms:  # a gap: the clip before keeps its length
        if target < prev.end_ms:
            return f"the beat at {target / 1000:g} s is before clips[{i - 1}] ends", prev
        return None, prev
    overlap = prev.end_ms - slot.start_ms  # > 0 for crossfades (their length)
    dur = target + overlap - prev.start_ms
    next_td = slot.transition_ms if slot.transition != "cut" else 0
    why = _fits(prev, dur, sources_ms[prev.source], next_td)
    return why, (prev if why else replace(prev, dur_ms=dur))


def snap(
    timeline: Timeline,
    beats_ms: Sequence[int],
    sources_ms: Mapping[str, int],
    sync: spec.BeatSync,
) -> tuple[Timeline, list[dict[str, Any]]]:
    """The timeline with its boundaries on beats, and one report entry per boundary."""
    beats = grid(beats_ms, sync)
    limit = max_shift_ms(beats, sync)
    slots = list(timeline.clips)
    report: list[dict[str, Any]] = []
    planned_end = timeline.duration_ms
    shift = 0  #: how far the current clip's start moved (cascades to the later clips)
    for i in range(1, len(slots)):
        prev, slot = slots[i - 1], replace(slots[i], start_ms=slots[i].start_ms + shift)
        planned = timeline.clips[i].start_ms
        kind = slot.transition if slot.transition != "cut" else "cut"
        entry: dict[str, Any] = {"clip": i, "kind": kind, "planned": planned / 1000}
        target = nearest(beats, planned)
        why, slots[i - 1] = _kept(i, prev, slot, target, planned, limit, sources_ms)
        if why is None and target is not None:
            shift = target - timeline.clips[i].start_ms
            slot = replace(slot, start_ms=target)
            entry["snapped"] = target / 1000
        else:
            shift = slot.start_ms - timeline.clips[i].start_ms
            entry["snapped"] = None
            entry["left"] = why
            entry["at"] = slot.start_ms / 1000
        slots[i] = slot
        report.append(entry)
    if slots and shift:
        last = slots[-1]
        dur = planned_end - last.start_ms
        if _fits(last, dur, sources_ms[last.source], 0) is None:
            slots[-1] = replace(last, dur_ms=dur)
    total = max((s.end_ms for s in slots), default=0)
    return replace(timeline, clips=tuple(slots), duration_ms=total), report
