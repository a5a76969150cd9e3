"""Beat sync's snapping (vidsvc/graph/beatsync.py), pure: planned timeline + beats -> timeline."""

from __future__ import annotations

from typing import Any

import pytest

from vidsvc import graph, spec
from vidsvc.errors import ValidationError
from vidsvc.graph.beatsync import snap
from vidsvc.schema import parse_composition
from vidsvc.work.compositions import sound

BEATS = list(range(230, 20_000, 500))  # 120 BPM, first beat at 0.23 s


def plan(clips: list[dict[str, Any]], durations: dict[str, int]) -> graph.Timeline:
    comp = parse_composition({"clips": clips})
    return graph.plan(comp, durations, graph.Limits())


def test_cuts_move_to_the_nearest_beat_by_lengthening_or_shortening_the_clip_before() -> None:
    timeline = plan(
        [
            {"url": "a", "trim_end": 1.1},
            {"url": "b", "trim_start": 0.5, "trim_end": 1.4},
            {"url": "a", "trim_end": 1.5},
        ],
        {"a": 4000, "b": 4000},
    )
    snapped, report = snap(timeline, BEATS, {"a": 4000, "b": 4000}, spec.BeatSync())
    starts = [c.start_ms for c in snapped.clips]
    assert starts == [0, 1230, 2230]  # planned 1.1 and 2.0
    assert [c.in_ms for c in snapped.clips] == [0, 500, 0]  # trim starts kept
    assert snapped.clips[0].dur_ms == 1230 and snapped.clips[1].dur_ms == 1000
    assert snapped.duration_ms == timeline.duration_ms == 3500  # the last clip keeps the end
    assert [(r["planned"], r["snapped"]) for r in report] == [(1.1, 1.23), (2.0, 2.23)]


def test_a_crossfade_start_lands_on_the_beat() -> None:
    clips = [
        {"url": "a", "trim_end": 2},
        {"url": "b", "trim_end": 2, "transition_in": "crossfade", "transition_duration": 0.5},
    ]
    timeline = plan(clips, {"a": 5000, "b": 5000})
    assert timeline.clips[1].start_ms == 1500
    snapped, report = snap(
        timeline, [x + 100 for x in BEATS], {"a": 5000, "b": 5000}, spec.BeatSync()
    )
    assert snapped.clips[1].start_ms == 1330  # nearest of 0.83/1.33/1.83 to 1.5
    assert snapped.clips[0].end_ms - snapped.clips[1].start_ms == 500  # the overlap kept
    assert report[0]["kind"] == "crossfade"


def test_a_cut_the_source_cannot_reach_is_left_and_said() -> None:
    timeline = plan([{"url": "a"}, {"url": "b", "trim_end": 1}], {"a": 1100, "b": 3000})
    snapped, report = snap(timeline, BEATS, {"a": 1100, "b": 3000}, spec.BeatSync())
    assert snapped.clips[1].start_ms == 1100  # the beat at 1.23 needs 130 ms more of "a"
    assert report[0]["snapped"] is None
    assert "source ends" in report[0]["left"]


def test_every_and_max_shift() -> None:
    timeline = plan([{"url": "a", "trim_end": 1.1}, {"url": "b", "trim_end": 1}], {})
    durations = {"a": 9000, "b": 9000}
    every2, _ = snap(timeline, BEATS, durations, spec.BeatSync(every=2))  # 0.23, 1.23, 2.23…
    assert every2.clips[1].start_ms == 1230
    tight, report = snap(timeline, BEATS, durations, spec.BeatSync(max_shift_ms=50))
    assert tight.clips[1].start_ms == 1100
    assert "no beat within 0.05 s" in report[0]["left"]


def test_beat_sync_needs_the_flag_and_music(make_settings: Any) -> None:
    comp = parse_composition(
        {"clips": [{"url": "a"}], "audio": {"music_url": "m", "beat_sync": True}}
    )
    with pytest.raises(ValidationError) as off:
        sound.check(comp, make_settings())
    assert "ENABLE_BEAT_DETECTION" in str(off.value)
    assert off.value.details["field"] == "audio.beat_sync"
    sound.check(comp, make_settings(ENABLE_BEAT_DETECTION="true"))
    no_music = parse_composition({"clips": [{"url": "a"}], "audio": {"beat_sync": {"every": 2}}})
    with pytest.raises(ValidationError, match=r"audio\.music_url"):
        sound.check(no_music, make_settings(ENABLE_BEAT_DETECTION="true"))


def test_ducking_needs_music_and_a_voiceover(make_settings: Any) -> None:
    for audio in ({"music_url": "m"}, {"voiceover_url": "v"}):
        comp = parse_composition({"clips": [{"url": "a"}], "audio": {**audio, "ducking": True}})
        with pytest.raises(ValidationError) as refused:
            sound.check(comp, make_settings())
        assert refused.value.details["field"] == "audio.ducking"
    both = {"music_url": "m", "voiceover_url": "v", "ducking": {"amount_db": 6}}
    sound.check(parse_composition({"clips": [{"url": "a"}], "audio": both}), make_settings())
