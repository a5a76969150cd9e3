"""The smart-render planner (graph/splice_plan.py) and the concat script (graph/splice.py)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from vidsvc import graph
from vidsvc.graph import holes, splice, splice_plan
from vidsvc.schema import parse_composition

GOP = 60
DURATIONS = {"a": 10_000, "b": 10_000, "s": 10_000}
SOURCES = {
    u: graph.Source(name=f"{u}.mp4", duration_ms=10_000, has_video=True, has_audio=True)
    for u in DURATIONS
}
READY = {"a": splice_plan.Ready(frames=300, gop=GOP), "b": splice_plan.Ready(frames=300, gop=GOP)}


def plan_of(clips: list[dict[str, Any]], ass: str | None = None, **extra: Any) -> splice_plan.Plan:
    comp = parse_composition({"clips": clips, **extra})
    timeline = graph.plan(comp, DURATIONS, graph.Limits())
    return splice_plan.plan(timeline, comp, SOURCES, READY, ass)


def pieces(p: splice_plan.Plan) -> list[tuple[int, int, str | None, int]]:
    return [(x.start, x.frames, x.source, x.source_start) for x in p.pieces]


def test_a_whole_ready_clip_is_one_copy() -> None:
    assert pieces(plan_of([{"url": "a"}])) == [(0, 300, "a", 0)]


def test_a_clip_that_is_not_ready_is_encoded() -> None:
    p = plan_of([{"url": "s"}])
    assert pieces(p) == [(0, 300, None, 0)] and not splice_plan.worth_it(p)


def test_a_trim_mid_gop_widens_the_encode_span_to_the_next_idr() -> None:
    # from 1.1 s: source frame 33 on; the first whole GOP starts at source frame 60
    p = plan_of([{"url": "a", "trim_start": 1.1, "trim_end": 9}])
    assert pieces(p) == [(0, 27, None, 0), (27, 180, "a", 60), (207, 30, None, 0)]


def test_a_trim_to_the_sources_end_copies_the_last_partial_gop() -> None:
    p = plan_of([{"url": "a", "trim_start": 2}])
    assert pieces(p) == [(0, 240, "a", 60)]


def test_cuts_between_ready_clips_copy_on_both_sides() -> None:
    p = plan_of([{"url": "a", "trim_end": 4}, {"url": "b", "trim_start": 2, "trim_end": 6}])
    assert pieces(p) == [(0, 120, "a", 0), (120, 120, "b", 60)]


def test_a_crossfade_is_encoded_and_widened_to_whole_gops() -> None:
    p = plan_of(
        [
            {"url": "a", "trim_end": 4},
            {"url": "b", "trim_end": 4, "transition_in": "crossfade", "transition_duration": 0.5},
        ]
    )
    # b starts at 3.5 s (frame 105); a's last whole GOP ends at 60; b's first starts at 165
    assert pieces(p) == [(0, 60, "a", 0), (60, 105, None, 0), (165, 60, "b", 60)]


def test_fades_motion_colour_and_blur_are_encoded() -> None:
    faded = plan_of([{"url": "a", "transition_in": "fade", "transition_duration": 1}])
    assert pieces(faded)[0] == (0, 60, None, 0)  # the fade covers 30 frames: a GOP encoded
    for clip in ({"motion": "zoom_in"}, {"color_preset": "warm"}, {"fit": "blur"}):
        assert plan_of([{"url": "a", **clip}]).copied_frames == 0, clip
    assert plan_of([{"url": "a", "fit": "cover"}]).copied_frames == 300


def test_text_events_are_read_from_the_ass_document() -> None:
    ass = "[Events]\nDialogue: 0,0:00:02.50,0:00:03.00,Default,,0,0,0,,hi\n"
    assert splice_plan.text_spans(ass, 30) == [(75, 91)]
    p = plan_of([{"url": "a"}], ass)
    assert pieces(p) == [(0, 60, "a", 0), (60, 60, None, 0), (120, 180, "a", 120)]


def test_image_overlays_are_encoded() -> None:
    overlay = {"type": "image", "url": "s", "start_time": 4, "duration": 1}
    p = plan_of([{"url": "a"}], overlays=[overlay])
    assert pieces(p) == [(0, 120, "a", 0), (120, 60, None, 0), (180, 120, "a", 180)]


def test_a_source_shorter_than_its_trim_is_not_copied_past_its_end() -> None:
    short = {"a": splice_plan.Ready(frames=250, gop=GOP)}
    comp = parse_composition({"clips": [{"url": "a"}]})
    timeline = graph.plan(comp, DURATIONS, graph.Limits())
    p = splice_plan.plan(timeline, comp, SOURCES, short, None)
    assert pieces(p) == [(0, 250, "a", 0), (250, 50, None, 0)]  # tpad holds the rest


def test_worth_it_needs_the_threshold() -> None:
    half = splice_plan.Plan(fps=30, total_frames=100, pieces=())
    assert not splice_plan.worth_it(half)
    copied = splice_plan.Piece(start=0, frames=30, source="a")
    rest = splice_plan.Piece(start=30, frames=70)
    assert splice_plan.worth_it(splice_plan.Plan(fps=30, total_frames=100, pieces=(copied, rest)))


def test_concat_document_cuts_by_packet() -> None:
    p = splice_plan.Plan(
        fps=30,
        total_frames=100,
        pieces=(
            splice_plan.Piece(start=0, frames=10),
            splice_plan.Piece(start=10, frames=60, source="a", source_start=60),
            splice_plan.Piece(start=70, frames=30),
        ),
    )
    tb = Fraction(1, 15360)
    frames = [
        splice.Packets(pts=[i * 512 for i in range(n)], dts=[(i - 2) * 512 for i in range(n)],
                       time_base=tb)
        for n in (40, 300)
    ]  # fmt: skip
    named = {"windows.mp4": frames[0], "copy0.mp4": frames[1]}
    doc = splice.concat_document(p, {"a": "copy0.mp4"}, named)
    assert doc.splitlines() == [
        "ffconcat version 1.0",
        "file windows.mp4", "inpoint 0.000000", "outpoint 0.266666", "duration 0.333333",
        "file copy0.mp4", "inpoint 2.000000", "outpoint 3.933333", "duration 2.000000",
        "file windows.mp4", "inpoint 0.333334", "duration 1.000000",
    ]  # fmt: skip


@pytest.mark.parametrize("total", [1, 7, 1000, 5399])
def test_concat_durations_sum_to_each_pieces_start(total: int) -> None:
    """Written in whole microseconds, the running sum still lands on every piece's frame."""
    starts = list(range(0, total, 7))
    pieces_ = tuple(splice_plan.Piece(start=s, frames=min(7, total - s)) for s in starts)
    p = splice_plan.Plan(fps=30, total_frames=total, pieces=pieces_)
    packets = splice.Packets(
        pts=list(range(total)), dts=list(range(total)), time_base=Fraction(1, 30)
    )
    doc = splice.concat_document(p, {}, {"windows.mp4": packets})
    durations = [line.split()[1] for line in doc.splitlines() if line.startswith("duration")]
    at = 0
    for s, d in zip(starts, durations, strict=True):
        assert round(at * 15360 / 1_000_000) == s * 512
        whole, frac = d.split(".")
        at += int(whole) * 1_000_000 + int(frac)


def test_holes_are_the_copies_per_clip_but_the_thumbnails_frame() -> None:
    comp = parse_composition({"clips": [{"url": "s", "trim_end": 2}, {"url": "a"}]})
    timeline = graph.plan(comp, DURATIONS, graph.Limits())
    p = splice_plan.plan(timeline, comp, SOURCES, READY, None)
    assert pieces(p) == [(0, 60, None, 0), (60, 300, "a", 0)]
    assert splice_plan.holes(p, timeline, 30) == {1: [(0, 300)]}
    assert splice_plan.holes(p, timeline, 100) == {1: [(0, 40), (41, 300)]}


def test_hole_runs() -> None:
    assert holes.runs(10, [(2, 4), (6, 10)]) == [
        (0, 2, False), (2, 4, True), (4, 6, False), (6, 10, True)
    ]  # fmt: skip
    assert holes.runs(5, []) == [(0, 5, False)]
