"""A range of the timeline (`output.range`): which clips it needs, and the clock it runs on.

A range render must give exactly the frames and samples the full render has there, and cost
what the range costs, not the composition. So:

- Only the clips live in the range are built, each whole (from its own start: a crossfade,
  fade or motion that began before the range is drawn as in the full render, and nothing is
  re-derived), on a cut timeline whose 0 is `origin_ms`; the inputs of every other clip are
  never opened. A clip running past the range's end costs nothing past it: the output's `-t`
  ends the run there, and FFmpeg stops reading the inputs.
- `origin_ms` is the first such clip's start (or the range's, in a gap) moved back onto the
  output's frame grid (a multiple of 2 x 1000/gcd(1000, fps) ms: whole ms and an even number
  of frames), so every frame and sample boundary the cut timeline rounds to is the full
  render's, shifted by whole frames.
- The joined pictures are moved back onto the full timeline's clock (`setpts`) before image
  and video overlays and the text are drawn, so those are the full render's, to the frame;
  the sound is built on the cut clock (tracks and narrations shifted by the origin). Then
  video and sound are trimmed to the range and start at 0.

The loudness target's gain is measured on the whole mix (work/compositions/sound.py), so a
range sounds as loud as it does in the full render. Pure: imports the leaves and vidsvc.graph.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from vidsvc import spec
from vidsvc.graph.slots import ClipSlot, Timeline
from vidsvc.graph.timeline_rules import Issues, secs

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    timeline: Timeline  #: the clips the range needs, whole, shifted to start at origin_ms
    origin_ms: int  #: where the cut timeline's 0 is on the full timeline (on the frame grid)
    start_ms: int  #: the range on the full timeline
    end_ms: int
    fps: int
    first: int = 0  #: the full timeline's index of the window's first clip

    def own(self, per_clip: Mapping[int, T]) -> dict[int, T]:
        """`per_clip` (keyed by the full timeline's clip index) keyed by this window's."""
        kept = range(self.first, self.first + len(self.timeline.clips))
        return {i - self.first: v for i, v in per_clip.items() if i in kept}

    @property
    def origin_frame(self) -> int:
        return self.origin_ms * self.fps // 1000

    def frames(self) -> tuple[int, int]:
        """[first, end) of the range in the cut timeline's frames."""
        first = round(self.start_ms * self.fps / 1000) - self.origin_frame
        return first, round(self.end_ms * self.fps / 1000) - self.origin_frame

    def samples(self, rate: int) -> tuple[int, int]:
        """[first, end) of the range in the cut timeline's samples."""
        return (
            (self.start_ms - self.origin_ms) * rate // 1000,
            (self.end_ms - self.origin_ms) * rate // 1000,
        )


def check(out: spec.Output, total_ms: int, issues: Issues) -> None:
    """A range must start inside the timeline (its end is cut at the timeline's)."""
    r = out.range
    if r is not None and r.start_ms >= total_ms:
        issues.add(
            "output.range",
            f"starts at {secs(r.start_ms)} s, not before the end of the timeline "
            f"({secs(total_ms)} s)",
        )
    elif r is not None and _frame(min(r.end_ms, total_ms), out.fps) <= _frame(r.start_ms, out.fps):
        issues.add(
            "output.range",
            f"{secs(min(r.end_ms, total_ms) - r.start_ms)} s holds no whole frame at "
            f"{out.fps} fps",
        )


def _frame(ms: int, fps: int) -> int:
    return round(ms * fps / 1000)


def rendered_ms(out: spec.Output, total_ms: int) -> int:
    """How long the output is: the range (cut at the timeline's end), or the timeline."""
    r = out.range
    return total_ms if r is None else min(r.end_ms, total_ms) - r.start_ms


def grid_ms(fps: int) -> int:
    """The shortest whole number of ms that is also a whole number of frames at `fps`."""
    return 1000 // math.gcd(1000, fps)


def cut(timeline: Timeline, out: spec.Output) -> Window:
    """The window of `out.range` (which check() accepted) on `timeline`."""
    assert out.range is not None
    start = out.range.start_ms
    end = min(out.range.end_ms, timeline.duration_ms)
    clips = timeline.clips
    first = next(i for i, c in enumerate(clips) if c.end_ms > start)
    last = max(i for i, c in enumerate(clips) if c.start_ms < end)
    if clips[last].end_ms < end and last + 1 < len(clips):  # the range ends in a gap
        last += 1
    # an even number of frames: Python's round() halves to even, so only a shift by an even
    # number of frames keeps every x.5 boundary where the full render puts it
    step = 2 * grid_ms(out.fps)
    origin = min(start, clips[first].start_ms) // step * step
    kept = [_moved(c, origin, k == 0) for k, c in enumerate(clips[first : last + 1])]
    cut_timeline = Timeline(clips=tuple(kept), overlays=(), duration_ms=kept[-1].end_ms)
    return Window(timeline=cut_timeline, origin_ms=origin, start_ms=start, end_ms=end,
                  fps=out.fps, first=first)  # fmt: skip


def _moved(slot: ClipSlot, origin: int, first: bool) -> ClipSlot:
    """The slot on the cut clock; the first one blends with nothing (its predecessor's part
    of a crossfade is before the range: those frames are trimmed away)."""
    moved = replace(slot, start_ms=slot.start_ms - origin)
    if first and spec.is_crossfade(slot.transition):
        moved = replace(moved, transition="cut", transition_ms=0)
    return moved
