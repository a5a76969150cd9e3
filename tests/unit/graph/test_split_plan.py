"""graph/split.py's plan: how many parts, where their seams go (the GOP grid, a hard cut when
one is near, never a part shorter than MIN_PART_MS), what a part's range and options are, and
what its hash holds.

That a split render is the one pass, frame for frame, is tests/render/test_split.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from vidsvc import spec
from vidsvc.graph import Limits, Timeline, plan
from vidsvc.graph import split as parts
from vidsvc.schema import parse_composition


def _timeline(lengths: list[float], crossfade_every: int = 0, fps: int = 30) -> Timeline:
    clips: list[dict[str, Any]] = []
    for i, seconds in enumerate(lengths):
        clip: dict[str, Any] = {"url": f"file:///c{i}.mp4", "trim_end": seconds}
        if crossfade_every and i and i % crossfade_every == 0:
            clip |= {"transition_in": "crossfade", "transition_duration": 0.5}
        clips.append(clip)
    comp = parse_composition({"clips": clips, "output": {"fps": fps}})
    durations = {c["url"]: 3_600_000 for c in clips}
    return plan(comp, durations, Limits(max_duration_ms=3_600_000))


def test_parts_cover_the_timeline_on_the_gop_grid() -> None:
    timeline = _timeline([7.3] * 90, crossfade_every=1)  # crossfades only: no cut to move to
    split = parts.plan(timeline, 30, parts.Sizing(chunk_ms=30_000, max_parts=64))
    assert split.frames == round(timeline.duration_ms * 30 / 1000)
    assert split.parts[0].first == 0 and split.parts[-1].end == split.frames
    for before, after in zip(split.parts, split.parts[1:], strict=False):
        assert before.end == after.first and after.first % split.gop == 0
    assert split.gop == 60  # 2 s at 30 fps
    assert len(split.parts) == round(timeline.duration_ms / 30_000)


def test_a_seam_moves_onto_a_hard_cut_within_one_gop() -> None:
    # 10 s then 12 s clips, 142 s in 4 parts: the even seams (35.5 s, 71 s, 106.5 s) each have
    # a clip starting on the 2 s grid within 2 s (34 s, 70 s, 106 s): they move there
    near = _timeline([10.0] + [12.0] * 11)
    split = parts.plan(near, 30, parts.Sizing(chunk_ms=35_500, max_parts=8))
    starts = {round(c.start_ms * 30 / 1000) for c in near.clips}
    assert [p.first for p in split.parts[1:]] == [34 * 30, 70 * 30, 106 * 30]
    assert all(p.first in starts for p in split.parts)
    # 7 s clips, 140 s: a clip starts on the grid every 14 s, so 35 s and 105 s are 7 s from
    # the nearest: those seams stay on the grid (unequal parts would cost the last of a wave
    # more than opening a clip mid-way costs a part); 70 s is a cut
    far = parts.plan(_timeline([7.0] * 20), 30, parts.Sizing(chunk_ms=35_000, max_parts=8))
    assert [p.first // 30 for p in far.parts[1:]] == [36, 70, 104]
    # the same timeline of crossfades has no cut: its seams are the grid's nearest points
    asks = parts.Sizing(chunk_ms=35_000, max_parts=8)
    blended = parts.plan(_timeline([7.5] * 20, crossfade_every=1), 30, asks)
    assert [p.first // 30 for p in blended.parts[1:]] == [36, 70, 106]  # of 140.5 s


def test_no_part_is_shorter_than_the_least_and_the_count_is_capped() -> None:
    short = parts.plan(_timeline([10.0] * 3), 30, parts.Sizing(chunk_ms=5_000, max_parts=16))
    assert len(short.parts) == 1  # 30 s: one part of at least 20 s and no second one
    many = parts.plan(_timeline([60.0] * 60), 30, parts.Sizing(chunk_ms=30_000, max_parts=12))
    assert len(many.parts) == 12
    assert min(p.frames for p in many.parts) >= 20 * 30


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
def test_a_part_is_exactly_a_range_of_whole_milliseconds(fps: int) -> None:
    split = parts.plan(
        _timeline([9.7] * 30, fps=fps), fps, parts.Sizing(chunk_ms=30_000, max_parts=8)
    )
    for part in split.parts:
        r = part.range(fps)
        assert r.start_ms * fps == part.first * 1000 and r.end_ms * fps <= part.end * 1000 + fps


def test_the_hash_holds_the_parts_and_the_facts() -> None:
    split = parts.plan(_timeline([6.0] * 20), 30, parts.Sizing(chunk_ms=30_000, max_parts=8))
    facts = {"ffmpeg": "5.1.6", "x264": "164", "fonts": "abc", "encoding": "crf=21"}
    same = split.digest(dict(facts))
    assert same == split.digest(facts)
    assert split.digest({**facts, "ffmpeg": "6.0"}) != same
    other = parts.plan(_timeline([6.0] * 20), 30, parts.Sizing(chunk_ms=20_000, max_parts=8))
    assert other.digest(facts) != same


@pytest.mark.parametrize(
    ("minutes", "slots", "count"),
    [
        (10, 16, 15),  # 16 (the cap), 17 items on 16 slots: one wave, not one and a sliver
        (10, 8, 15),  # 17 items on 8 slots: two waves
        (10, 4, 15),  # 17 items on 4 slots: four waves
        (3, 16, 9),  # 6 asked, 7 items: fill the one wave, as far as 20 s parts allow
        (3, 4, 7),  # 6 asked, 7 items on 4 slots: two waves
        (3, 1, 6),  # one slot: about 30 s each, as asked
        (0.5, 4, 1),  # 30 s: one part of at least 20 s, whatever the slots
    ],
)
def test_the_count_fills_whole_waves_of_the_slots(minutes: float, slots: int, count: int) -> None:
    asks = parts.Sizing(chunk_ms=30_000, max_parts=16, slots=slots)
    assert asks.count(round(minutes * 60_000)) == count
    timeline = _timeline([7.5] * round(minutes * 8))
    assert len(parts.plan(timeline, 30, asks).parts) == count


def test_parts_are_queued_longest_first() -> None:
    split = parts.Split(fps=30, frames=2700, gop=60, parts=(
        parts.Part(index=0, first=0, end=600), parts.Part(index=1, first=600, end=1560),
        parts.Part(index=2, first=1560, end=2160), parts.Part(index=3, first=2160, end=2700),
    ))  # fmt: skip
    assert split.longest_first() == (1, 0, 2, 3)  # 960, then 600 and 600 in order, then 540


def test_a_part_is_encoded_with_the_pins_that_make_parts_join() -> None:
    out = spec.Output(resolution="1080p", fps=30)
    args = parts.part_args(out, 60)
    assert args[args.index("-g") + 1] == "60" and args[args.index("-keyint_min") + 1] == "60"
    assert args[args.index("-level:v") + 1] == "4.0"  # 1080p30: not 720p's 3.1
    assert "stitchable=1" in args and args[-1] == "-an"
    assert parts.level((1280, 720), 30) == 31 and parts.level((3840, 2160), 30) == 51
