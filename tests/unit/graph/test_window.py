"""graph/window.py: which clips a range keeps, its origin on the frame grid, its frame and
sample arithmetic, and the argv of a range render (only the kept clips' inputs, sought).

What a range *renders* is checked against the full render in tests/render/test_range.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.support.graph_inputs import FONTS
from vidsvc import spec
from vidsvc.errors import InvalidTimeline, ValidationError
from vidsvc.graph import Encoding, Limits, Source, Timeline, build, compile_command, plan, window
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.segments import frame_at, segments
from vidsvc.schema import parse_composition

RATE = 48_000  #: the graph's sample rate (graph/pcm.py)
FILE_MS = 10_000  #: every made-up clip source is this long


def _comp(clips: list[dict[str, Any]], **output: Any) -> spec.Composition:
    return parse_composition({"clips": clips, "output": {"fps": 30, **output}})


def _planned(clips: list[dict[str, Any]], **output: Any) -> tuple[Timeline, spec.Composition]:
    comp = _comp(clips, **output)
    durations = {c["url"]: FILE_MS for c in clips}
    return plan(comp, durations, Limits()), comp


def _cut(
    clips: list[dict[str, Any]], start: float, duration: float, fps: int = 30
) -> tuple[Timeline, window.Window]:
    timeline, comp = _planned(clips, fps=fps, range={"start": start, "duration": duration})
    return timeline, window.cut(timeline, comp.output)


def _kept(win: window.Window) -> list[int]:
    return [c.index for c in win.timeline.clips]


#: six 3 s clips, cut: [0, 3), [3, 6), … [15, 18)
CUTS: list[dict[str, Any]] = [{"url": f"c{i}.mp4", "trim_end": 3} for i in range(6)]
#: three 2 s clips with gaps: [0, 2), gap, [4, 6), gap, [8, 10)
GAPPED: list[dict[str, Any]] = [
    {"url": "g0.mp4", "trim_end": 2},
    {"url": "g1.mp4", "trim_end": 2, "start_time": 4},
    {"url": "g2.mp4", "trim_end": 2, "start_time": 8},
]
#: 4 s clips: a crossfade (0.5 s) into c1, a fade through black into c2, a crossfade into c3
MIXED: list[dict[str, Any]] = [
    {"url": "m0.mp4", "trim_end": 4},
    {"url": "m1.mp4", "trim_end": 4, "transition_in": "crossfade", "transition_duration": 0.5},
    {"url": "m2.mp4", "trim_end": 4, "transition_in": "fade", "transition_duration": 1},
    {"url": "m3.mp4", "trim_end": 4, "transition_in": "crossfade", "transition_duration": 1},
    {"url": "m4.mp4", "trim_end": 4},
]
MIXED_STARTS = [0, 3500, 7500, 10500, 14500]  #: the timeline is 18.5 s


@pytest.mark.parametrize(
    ("start", "duration", "kept"),
    [
        (4.5, 3.0, [1, 2]),  # inside c1 to inside c2
        (3.0, 3.0, [1]),  # exactly c1: c0 ends at the start, c2 starts at the end
        (2.9, 3.2, [0, 1, 2]),  # just over both edges
        (0.0, 0.5, [0]),
        (16.0, 2.0, [5]),  # to the timeline's end
        (16.0, 9.0, [5]),  # past it: cut there
        (0.0, 18.0, [0, 1, 2, 3, 4, 5]),
    ],
)
def test_kept_clips_from_the_first_ending_after_start_to_the_last_starting_before_end(
    start: float, duration: float, kept: list[int]
) -> None:
    _, win = _cut(CUTS, start, duration)
    assert _kept(win) == kept


def test_a_range_ending_in_a_gap_keeps_the_next_clip_so_the_gap_is_built() -> None:
    _, win = _cut(GAPPED, 0.5, 2.5)  # ends at 3 s, in the gap [2, 4)
    assert _kept(win) == [0, 1]
    assert win.origin_ms + win.timeline.duration_ms >= 3000  # reaches past the range's end
    _, end = win.frames()
    assert end <= frame_at(win.timeline.duration_ms, 30)  # the cut timeline holds every frame
    _, win = _cut(GAPPED, 0.5, 1.0)  # ends inside g0: nothing more
    assert _kept(win) == [0]


def test_a_range_starting_in_a_gap_starts_its_clock_in_the_gap() -> None:
    _, win = _cut(GAPPED, 2.5, 2.0)  # [2.5, 4.5): the gap, then g1
    assert _kept(win) == [1]
    assert 2500 - 2 * window.grid_ms(30) < win.origin_ms <= 2500  # the range's start, not g0's
    assert win.timeline.clips[0].start_ms == 4000 - win.origin_ms
    assert win.frames() == (75 - win.origin_frame, 135 - win.origin_frame)


@pytest.mark.parametrize(
    ("fps", "grid"),
    [(30, 100), (25, 40), (24, 125), (60, 50), (50, 20), (1, 1000), (12, 250), (29, 1000)],
)
def test_grid_ms_is_the_shortest_whole_ms_that_is_whole_frames(fps: int, grid: int) -> None:
    assert window.grid_ms(fps) == grid
    assert grid * fps % 1000 == 0
    assert all(k * fps % 1000 for k in range(1, grid))


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
@pytest.mark.parametrize("start", [0.0, 0.7, 3.33, 3.5, 7.9, 10.77, 12.0, 17.2])
def test_the_origin_is_on_the_frame_grid_at_or_before_the_first_kept_clip(
    fps: int, start: float
) -> None:
    _, win = _cut(MIXED, start, 1.0, fps)
    grid = window.grid_ms(fps)
    first_start = MIXED_STARTS[_kept(win)[0]]
    assert win.origin_ms % grid == 0
    assert win.origin_ms <= min(round(start * 1000), first_start)
    # close before it: at most two grid steps (an even number of frames may need the second)
    assert min(round(start * 1000), first_start) - 2 * grid < win.origin_ms
    assert win.origin_frame * 1000 == win.origin_ms * fps  # a whole number of frames
    assert win.timeline.clips[0].start_ms == first_start - win.origin_ms


def test_the_plan_places_the_mixed_clips_where_the_tests_expect() -> None:
    timeline, _ = _planned(MIXED)
    assert [c.start_ms for c in timeline.clips] == MIXED_STARTS
    assert timeline.duration_ms == 18_500


def test_a_first_kept_clip_that_crossfades_in_becomes_a_cut() -> None:
    _, win = _cut(MIXED, 4.2, 2.0)  # inside m1, after its crossfade (3.5-4 s)
    assert _kept(win) == [1]
    first = win.timeline.clips[0]
    assert (first.transition, first.transition_ms) == ("cut", 0)
    _, win = _cut(MIXED, 3.7, 2.0)  # inside the crossfade: m0 is kept, m1 still blends
    assert _kept(win) == [0, 1]
    assert (win.timeline.clips[1].transition, win.timeline.clips[1].transition_ms) == (
        "crossfade",
        500,
    )
    _, win = _cut(MIXED, 12.0, 5.0)  # m3 crossfades in before the range, m4 is a cut
    assert _kept(win) == [3, 4]
    assert [c.transition for c in win.timeline.clips] == ["cut", "cut"]


def test_a_fade_in_through_black_stays_on_the_first_kept_clip() -> None:
    _, win = _cut(MIXED, 7.9, 1.0)  # inside m2's fade in (7.5-8.5 s)
    assert _kept(win) == [2]
    assert win.timeline.clips[0].look.fade_in_ms == 1000


@pytest.mark.parametrize("fps", [24, 25, 30, 60, 12])
@pytest.mark.parametrize(
    ("start", "duration"),
    [(0.0, 1.0), (3.7, 2.0), (4.2, 2.3), (7.9, 1.05), (10.77, 3.33), (12.0, 6.5), (17.2, 9.0)],
)
def test_frames_and_samples_are_the_full_timelines_counts_shifted_to_the_origin(
    fps: int, start: float, duration: float
) -> None:
    timeline, win = _cut(MIXED, start, duration, fps)
    start_ms = round(start * 1000)
    end_ms = min(round((start + duration) * 1000), timeline.duration_ms)
    first, end = win.frames()
    assert first + win.origin_frame == round(start_ms * fps / 1000)
    assert end + win.origin_frame == round(end_ms * fps / 1000)
    assert end - first == round(end_ms * fps / 1000) - round(start_ms * fps / 1000)
    first_sample, end_sample = win.samples(RATE)
    assert first_sample == (start_ms - win.origin_ms) * RATE // 1000
    assert end_sample - first_sample == end_ms * RATE // 1000 - start_ms * RATE // 1000
    assert first >= 0 and end <= frame_at(win.timeline.duration_ms, fps)


#: four 3.35 s clips, cut: starts 0, 3350, 6700, 10050 (off the 100 ms grid of 30 fps)
ODD: list[dict[str, Any]] = [{"url": f"o{i}.mp4", "trim_end": 3.35} for i in range(4)]
BOUNDARY_CASES = [
    *(
        pytest.param(MIXED, fps, start, id=f"mixed-{fps}fps-{start}s")
        for fps in (24, 25, 30, 60)
        for start in (0.4, 3.7, 4.2, 5.0, 7.9, 10.8, 12.0, 15.0)
    ),
    *(
        pytest.param(ODD, fps, start, id=f"odd-{fps}fps-{start}s")
        for fps in (24, 25, 30, 60)
        for start in (1.0, 4.0, 7.0, 11.0)
    ),
]


@pytest.mark.parametrize(("clips", "fps", "start"), BOUNDARY_CASES)
def test_every_kept_clips_frame_boundaries_are_the_full_renders_shifted_by_whole_frames(
    clips: list[dict[str, Any]], fps: int, start: float
) -> None:
    """window.py's promise: on the cut clock a clip starts and ends on the frames it does in
    the full render, moved back by origin_frame (else the range shows other frames)."""
    timeline, win = _cut(clips, start, 2.0, fps)
    full = {c.index: c for c in timeline.clips}
    for c in win.timeline.clips:
        placed = (
            frame_at(c.start_ms, fps) + win.origin_frame,
            frame_at(c.end_ms, fps) + win.origin_frame,
        )
        expected = (frame_at(full[c.index].start_ms, fps), frame_at(full[c.index].end_ms, fps))
        assert placed == expected, (c.index, win.origin_ms, placed, expected)


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
@pytest.mark.parametrize("start", [0.4, 3.7, 5.0, 7.9, 10.8, 12.0, 15.0])
def test_the_cut_timelines_sound_is_as_long_as_its_pictures(fps: int, start: float) -> None:
    """The segments' sound, joined, spans the cut timeline to the sample: a leading gap (the
    origin before the first clip) must be silence of its own length, or every sample after it
    is early."""
    timeline, comp = _planned(MIXED, fps=fps, range={"start": start, "duration": 2.0})
    win = window.cut(timeline, comp.output)
    sources = {c["url"]: _source(c["url"], k) for k, c in enumerate(MIXED)}
    made = segments(GraphBuilder(), win.timeline, comp.output, sources)
    samples = sum(s.samples - s.overlap_samples for s in made)
    frames = sum(s.frames - s.overlap_frames for s in made)
    assert frames == frame_at(win.timeline.duration_ms, fps)
    assert samples == win.timeline.duration_ms * RATE // 1000, (
        win.origin_ms,
        win.timeline.clips[0].start_ms,
    )


def test_rendered_ms_is_the_range_cut_at_the_timelines_end() -> None:
    assert window.rendered_ms(spec.Output(), 18_500) == 18_500
    ranged = spec.Output(range=spec.Range(start_ms=2_000, duration_ms=3_000))
    assert window.rendered_ms(ranged, 18_500) == 3_000
    past = spec.Output(range=spec.Range(start_ms=17_000, duration_ms=10_000))
    assert window.rendered_ms(past, 18_500) == 1_500


@pytest.mark.parametrize("start", [18.5, 19.0, 100.0])
def test_a_range_starting_at_or_after_the_end_is_invalid_timeline_naming_output_range(
    start: float,
) -> None:
    with pytest.raises(InvalidTimeline) as err:
        _planned(MIXED, range={"start": start, "duration": 1})
    assert err.value.code == "INVALID_TIMELINE"
    assert err.value.details["field"] == "output.range"
    assert err.value.message.startswith("output.range:")
    _planned(MIXED, range={"start": 18.4, "duration": 1})  # just before the end: accepted


@pytest.mark.parametrize(
    ("range_", "field"),
    [
        ({"start": 1, "duration": 0}, "output.range.duration"),
        ({"start": 1, "duration": -2}, "output.range.duration"),
        ({"start": 1}, "output.range.duration"),
        ({"duration": 2}, "output.range.start"),
        ({"start": -1, "duration": 2}, "output.range.start"),
    ],
)
def test_a_bad_range_is_validation_error_naming_its_field(
    range_: dict[str, float], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        _comp(CUTS, range=range_)
    assert err.value.code == "VALIDATION_ERROR"
    assert err.value.details["field"] == field


@pytest.mark.parametrize(("duration", "fps"), [(0.0004, 30), (0.01, 25)])
def test_a_range_without_one_whole_frame_is_refused_before_any_render(
    duration: float, fps: int
) -> None:
    """Positive on the wire but no frame at the output's rate (0.4 ms is 0 ms): refused by
    the range's own field (as a timeline shorter than one frame is), never an empty video."""
    with pytest.raises((ValidationError, InvalidTimeline)) as err:
        timeline, comp = _planned(CUTS, fps=fps, range={"start": 1.001, "duration": duration})
        first, end = window.cut(timeline, comp.output).frames()
        assert end > first, "planned a range of no frame"
    assert str(err.value.details["field"]).startswith("output.range")


def test_draft_is_360_on_the_short_side_at_most_15_fps_ultrafast_one_pass() -> None:
    out = _comp(CUTS, resolution="1080p", fps=30, draft=True).output
    assert (out.size, out.fps, out.preset, out.smart_render) == (
        (640, 360),
        15,
        "ultrafast",
        False,
    )
    portrait = _comp(CUTS, aspect_ratio="9:16", fps=10, draft=True).output
    assert (portrait.size, portrait.fps) == ((360, 640), 10)


# --- the argv of a range render ---------------------------------------------------------

#: twelve 3 s clips, each its own file from 1 s in; crossfades (0.5 s) into c4 and c7
TWELVE: list[dict[str, Any]] = [
    {"url": f"s{i:02}.mp4", "trim_start": 1 + i / 10, "trim_end": 4 + i / 10}
    | ({"transition_in": "crossfade", "transition_duration": 0.5} if i in (4, 7) else {})
    for i in range(12)
]


def _source(url: str, k: int) -> Source:
    ext = url.rsplit(".", 1)[-1]
    return Source(name=f"in{k}.{ext}", duration_ms=FILE_MS, has_video=ext == "mp4", has_audio=True)


def _twelve(range_: dict[str, float] | None) -> tuple[Timeline, spec.Composition, list[str]]:
    document: dict[str, Any] = {
        "clips": TWELVE,
        "audio": {"music_url": "music.wav", "music_start": 2},
        "overlays": [{"content": "Hello", "start_time": 1, "duration": 30}],
        "captions": {"cues": [{"start": 10, "end": 13, "text": "Middle"}]},
        "output": {"resolution": "360p", "fps": 25, **({"range": range_} if range_ else {})},
    }
    comp = parse_composition(document)
    urls = [*(c["url"] for c in TWELVE), "music.wav"]
    sources = {u: _source(u, k) for k, u in enumerate(urls)}
    timeline = plan(comp, {u: s.duration_ms for u, s in sources.items()}, Limits())
    encoding = Encoding(duration_ms=window.rendered_ms(comp.output, timeline.duration_ms))
    command = compile_command(build(timeline, comp, sources, FONTS), encoding)
    return timeline, comp, list(command.argv)


def _opened(argv: list[str]) -> list[tuple[str, str | None]]:
    """(file, its -ss or None) of every -i, in order."""
    found = []
    for k, arg in enumerate(argv):
        if arg != "-i":
            continue
        before = argv[:k]
        last_input = max((j for j, a in enumerate(before) if a == "-i"), default=-1)
        options = before[last_input + 1 :]
        seek = options[options.index("-ss") + 1] if "-ss" in options else None
        found.append((argv[k + 1], seek))
    return found


def test_a_range_render_opens_only_the_kept_clips_each_sought_and_the_music() -> None:
    timeline, comp, argv = _twelve({"start": 11.7, "duration": 4})  # [11.7, 15.7)
    assert [c.start_ms for c in timeline.clips][4:7] == [11500, 14500, 17500]
    win = window.cut(timeline, comp.output)
    assert _kept(win) == [3, 4, 5]  # s03 [9, 12) ends in c4's crossfade (11.5-12 s): kept whole
    opened = _opened(argv)
    clips = [(name, seek) for name, seek in opened if name.endswith(".mp4")]
    # each kept clip: its picture and its sound, from its own trim_start
    assert clips == [(f"in{i}.mp4", f"{1 + i / 10:.3f}") for i in (3, 3, 4, 4, 5, 5)]
    music = [(name, seek) for name, seek in opened if name.endswith(".wav")]
    # the music is sought to the window's origin (from music_start 2 s; it loops at 10 s)
    assert win.origin_ms % window.grid_ms(25) == 0 and 9000 - 80 < win.origin_ms <= 9000
    assert music == [("in12.wav", f"{(2000 + win.origin_ms) % FILE_MS / 1000:.3f}")]
    assert len(opened) == 7
    assert argv[argv.index("out.mp4") - 1] == "4.000"  # -t: the range's length


def test_the_full_render_of_the_same_composition_opens_every_clip() -> None:
    _, _, argv = _twelve(None)
    names = {name for name, _ in _opened(argv)}
    assert names == {f"in{i}.mp4" for i in range(12)} | {"in12.wav"}


def test_range_render_argv(snapshot: SnapshotAssertion) -> None:
    _, _, argv = _twelve({"start": 11.7, "duration": 4})
    assert argv == snapshot
