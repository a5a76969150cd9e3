"""Timeline rules of SPEC.md §3: derivation, placement, and every refusal naming clip and field."""

from __future__ import annotations

from typing import Any

import pytest

from vidsvc.errors import InvalidTimeline
from vidsvc.graph.timeline import Limits, Timeline, check, plan
from vidsvc.schema import parse_composition

DURATIONS = {"a": 8000, "b": 5000, "c": 3000, "m": 20000, "v": 4000}


def timeline(clips: list[dict[str, Any]], **extra: Any) -> Timeline:
    return plan(parse_composition({"clips": clips, **extra}), DURATIONS, Limits())


def refused(clips: list[dict[str, Any]], limits: Limits | None = None, **extra: Any) -> str:
    with pytest.raises(InvalidTimeline) as err:
        plan(parse_composition({"clips": clips, **extra}), DURATIONS, limits or Limits())
    assert err.value.code == "INVALID_TIMELINE"
    message = err.value.message
    assert message.startswith(err.value.details["field"] + ":")
    return message


def test_clips_follow_each_other_and_take_the_source_length() -> None:
    t = timeline([{"url": "a"}, {"url": "b", "trim_start": 1}])
    assert [(c.start_ms, c.dur_ms, c.in_ms) for c in t.clips] == [(0, 8000, 0), (8000, 4000, 1000)]
    assert t.duration_ms == 12000


def test_crossfades_overlap_by_their_duration() -> None:
    t = timeline(
        [
            {"url": "a", "trim_end": 3},
            {"url": "b", "trim_end": 3, "transition_in": "crossfade", "transition_duration": 0.5},
            {"url": "c", "trim_end": 2, "transition_in": "wipeleft", "transition_duration": 1},
        ]
    )
    assert [c.start_ms for c in t.clips] == [0, 2500, 4500]
    assert t.duration_ms == 6500


def test_fade_goes_through_black_without_overlap() -> None:
    t = timeline(
        [
            {"url": "a", "trim_end": 2, "transition_in": "fade"},
            {"url": "b", "trim_end": 2, "transition_in": "fade", "transition_duration": 0.4},
        ]
    )
    assert [c.start_ms for c in t.clips] == [0, 2000]
    assert t.clips[0].look.fade_out_ms == 400 and t.clips[0].transition_ms == 500


def test_gaps_are_allowed_and_placement_derives_the_length() -> None:
    t = timeline([{"url": "a", "start_time": 1, "end_time": 3}, {"url": "b", "start_time": 5}])
    assert [(c.start_ms, c.dur_ms) for c in t.clips] == [(1000, 2000), (5000, 5000)]
    assert t.duration_ms == 10000


def test_end_time_alone_derives_the_length_from_the_start() -> None:
    t = timeline([{"url": "a", "trim_start": 2, "end_time": 4}])
    assert (t.clips[0].start_ms, t.clips[0].dur_ms, t.clips[0].in_ms) == (0, 4000, 2000)


def test_overlay_defaults_to_the_rest_of_the_timeline() -> None:
    t = timeline([{"url": "c"}], overlays=[{"content": "hi", "start_time": 1}])
    assert (t.overlays[0].start_ms, t.overlays[0].end_ms) == (1000, 3000)


def test_text_with_newlines_tabs_and_any_script_is_fine() -> None:
    t = timeline([{"url": "c"}], overlays=[{"content": "a\r\nb\tc — שלום 👋 Привет"}])
    assert len(t.overlays) == 1


def test_audio_refusals() -> None:
    assert refused([{"url": "c"}], audio={"voiceover_url": "v", "voiceover_delay": 3}).startswith(
        "audio.voiceover_delay"
    )
    assert refused([{"url": "c"}], audio={"music_url": "m", "music_start": 25}).startswith(
        "audio.music_start"
    )


def test_counts_are_limited() -> None:
    assert "over MAX_CLIPS (1)" in refused([{"url": "c"}, {"url": "c"}], Limits(max_clips=1))
    assert "needs at least one clip" in refused([])
    overlays = [{"content": "x"}] * 3
    assert "MAX_OVERLAYS" in refused([{"url": "c"}], Limits(max_overlays=2), overlays=overlays)


def test_every_issue_is_listed_in_details() -> None:
    comp = parse_composition(
        {"clips": [{"url": "a", "trim_end": 9}], "overlays": [{"content": "", "start_time": 100}]}
    )
    with pytest.raises(InvalidTimeline) as err:
        plan(comp, DURATIONS, Limits())
    assert [i["field"] for i in err.value.details["issues"]] == ["clips[0].trim_end"]


def test_check_without_probe_catches_static_problems_and_defers_the_rest() -> None:
    ok = parse_composition({"clips": [{"url": "x"}, {"url": "y", "transition_in": "crossfade"}]})
    check(ok, Limits())  # lengths unknown until probed: nothing to refuse yet
    bad = parse_composition({"clips": [{"url": "x", "trim_start": 3, "trim_end": 2}]})
    with pytest.raises(InvalidTimeline):
        check(bad, Limits())
    long = parse_composition({"clips": [{"url": "x", "trim_end": 200}]})
    with pytest.raises(InvalidTimeline, match="MAX_DURATION_SECONDS"):
        check(long, Limits())
    texts = parse_composition({"clips": [{"url": "x"}], "overlays": [{"content": "a\x00"}]})
    with pytest.raises(InvalidTimeline, match="control character"):
        check(texts, Limits())
