"""Narration per clip on the timeline (docs/composition.md#narration): a clip as long as its
narration, where each narration sounds, what a source shorter than its clip does, and every
refusal naming its clip and field."""

from __future__ import annotations

from typing import Any

import pytest

from vidsvc.errors import InvalidTimeline, ValidationError
from vidsvc.graph import tracks
from vidsvc.graph.narration import Heard
from vidsvc.graph.timeline import Limits, Timeline, check, plan
from vidsvc.graph.timeline_rules import Issues
from vidsvc.schema import parse_composition

#: a: 8 s, b: 2 s, c: 1 s of video; m: 20 s of music
DURATIONS = {"a": 8000, "b": 2000, "c": 1000, "m": 20000, "s": 1500}
#: n1: 3.2 s file, speech to 2.5 s; n2: 2 s, speech to 1.6 s; long: 10 minutes of speech
HEARD = {
    "n1": Heard(duration_ms=3200, audible_ms=2500),
    "n2": Heard(duration_ms=2000, audible_ms=1600),
    "long": Heard(duration_ms=600_000, audible_ms=599_000),
}


def timeline(clips: list[dict[str, Any]], **extra: Any) -> Timeline:
    return plan(parse_composition({"clips": clips, **extra}), DURATIONS, Limits(), HEARD)


def refused(clips: list[dict[str, Any]], **extra: Any) -> tuple[str, str]:
    with pytest.raises(InvalidTimeline) as err:
        timeline(clips, **extra)
    return err.value.details["field"], err.value.message


def voiced(url: str, narration: str, **more: Any) -> dict[str, Any]:
    return {"url": url, "voiceover_url": narration, "duration": "voiceover", **more}


def test_a_clip_lasts_its_narrations_audible_part_plus_the_padding() -> None:
    t = timeline([voiced("a", "n1"), voiced("a", "n2", voiceover_padding=0.5)])
    assert [(c.start_ms, c.dur_ms) for c in t.clips] == [(0, 2750), (2750, 2100)]
    assert t.duration_ms == 4850
    first, second = (c.voice for c in t.clips)
    assert first is not None and second is not None
    assert (first.delay_ms, first.heard_ms, first.audible_ms) == (0, 2750, 2500)
    assert (second.delay_ms, second.heard_ms, second.audible_ms) == (0, 2000, 1600)
    assert t.warnings == ()


def test_a_narration_starts_after_a_crossfade_in_and_the_clip_makes_room_for_it() -> None:
    t = timeline(
        [
            voiced("a", "n1"),
            voiced("a", "n2", transition_in="crossfade", transition_duration=0.5),
        ]
    )
    second = t.clips[1]
    assert second.start_ms == 2250  # overlaps the first by the crossfade
    assert second.voice is not None and second.voice.delay_ms == 500
    assert second.dur_ms == 500 + 1600 + 250
    spoken = t.spoken()
    assert [(s.start_ms, s.end_ms) for s in spoken] == [(0, 2500), (2750, 4350)]
    assert spoken[0].end_ms <= spoken[1].start_ms  # never overlapping


def test_a_fade_in_does_not_delay_the_narration_but_the_offset_does() -> None:
    t = timeline(
        [
            voiced("a", "n1", transition_in="fade", transition_duration=0.4),
            voiced("a", "n2", voiceover_offset=0.3),
        ]
    )
    assert [c.voice.delay_ms for c in t.clips if c.voice] == [0, 300]
    assert t.clips[1].dur_ms == 300 + 1600 + 250


def test_a_narration_on_a_clip_of_fixed_length_is_cut_at_its_end_with_a_warning() -> None:
    t = timeline([{"url": "a", "trim_end": 2, "voiceover_url": "n1"}, {"url": "a"}])
    voice = t.clips[0].voice
    assert voice is not None and (voice.heard_ms, voice.audible_ms) == (2000, 2000)
    assert t.warnings == ("clips[0]: its narration is cut at the clip's end, 2 s into its 2.5 s "
                          "of speech",)  # fmt: skip


def test_a_source_shorter_than_its_narration_is_held_by_default() -> None:
    t = timeline([voiced("c", "n1")])
    slot = t.clips[0]
    assert (slot.dur_ms, slot.source_ms, slot.extended_ms) == (2750, 1000, 1750)
    assert slot.extend == "hold"
    assert not slot.look.untouched  # smart rendering never copies made-up frames
    assert t.warnings == ("clips[0] was held for 1.75 s (its source is shorter than the clip)",)


@pytest.mark.parametrize("how", ["loop", "slow"])
def test_extend_names_how_the_rest_is_made(how: str) -> None:
    t = timeline([voiced("b", "n1", extend=how, trim_start=0.5)])
    slot = t.clips[0]
    assert (slot.in_ms, slot.source_ms, slot.extend) == (500, 1500, how)
    assert t.warnings[0].startswith(f"clips[0] was {'looped' if how == 'loop' else 'slowed'}")


def test_a_trim_end_bounds_the_range_an_extended_clip_shows() -> None:
    slot = timeline([voiced("a", "n1", trim_start=1, trim_end=2, extend="loop")]).clips[0]
    assert (slot.in_ms, slot.source_ms, slot.dur_ms) == (1000, 1000, 2750)


def test_a_longer_source_is_cut_to_the_narration() -> None:
    slot = timeline([voiced("a", "n1")]).clips[0]
    assert (slot.source_ms, slot.extended_ms) == (2750, 0)


def test_an_explicit_extend_lets_a_clip_of_fixed_length_outrun_its_source() -> None:
    slot = timeline([{"url": "c", "duration": 3, "extend": "hold"}]).clips[0]
    assert (slot.dur_ms, slot.extended_ms) == (3000, 2000)
    field, _ = refused([{"url": "c", "duration": 3}])  # without it, as before: refused
    assert field == "clips[0].trim_end"


def test_stills_simply_last() -> None:
    slot = timeline([voiced("still", "n2")]).clips[0]
    assert (slot.dur_ms, slot.extended_ms) == (1850, 0)


def test_ten_minutes_of_narration_on_a_180_s_limit_names_the_narration() -> None:
    field, message = refused([voiced("a", "long")])
    assert field == "clips[0].voiceover_url"
    assert "599 s, over MAX_DURATION_SECONDS (180 s)" in message


def test_an_offset_past_the_clips_end_is_refused() -> None:
    field, _ = refused([{"url": "a", "trim_end": 1, "voiceover_url": "n1", "voiceover_offset": 2}])
    assert field == "clips[0].voiceover_offset"


def test_word_timings_past_the_narrations_end_are_refused() -> None:
    words = [{"start": 0, "end": 1, "text": "a"}, {"start": 1, "end": 3.5, "text": "b"}]
    field, message = refused([voiced("a", "n1", voiceover_words=words)])
    assert field == "clips[0].voiceover_words[1].end"
    assert "past the narration's end (3.2 s)" in message


def test_looping_a_tiny_range_over_a_long_narration_is_refused() -> None:
    field, message = refused([voiced("a", "n1", trim_end=0.05, extend="loop")])
    assert field == "clips[0].extend" and "use hold or slow" in message


def test_at_submit_a_narrated_clip_has_no_length_yet_and_passes() -> None:
    comp = parse_composition({"clips": [voiced("a", "n1"), {"url": "b", "trim_end": 1}]})
    check(comp, Limits())  # nothing probed, nothing measured: no refusal


@pytest.mark.parametrize(
    ("clip", "field"),
    [
        ({"url": "a", "duration": "voiceover"}, "clips[0].duration"),
        ({"url": "a", "voiceover_text": "hi"}, "clips[0].voiceover_text"),
        (
            {"url": "a", "duration": "voiceover", "end_time": 3, "voiceover_url": "n"},
            "clips[0].duration",
        ),
        ({"url": "a", "voiceover_url": "n", "extend": "stretch"}, "clips[0].extend"),
    ],
)
def test_bad_narration_fields_are_refused_at_the_schema(clip: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_composition({"clips": [clip]})
    assert err.value.details["field"] == field


def test_duration_voiceover_with_end_time_names_both_fields() -> None:
    clip = {"url": "a", "duration": "voiceover", "end_time": 3, "voiceover_url": "n"}
    with pytest.raises(ValidationError) as err:
        parse_composition({"clips": [clip]})
    assert set(err.value.details["fields"]) == {"clips[0].duration", "clips[0].end_time"}


@pytest.mark.parametrize(
    ("words", "field"),
    [
        ([{"start": 1, "end": 2, "text": "a"}, {"start": 0.5, "end": 0.9, "text": "b"}], "start"),
        ([{"start": 0, "end": 2, "text": "a"}, {"start": 1.5, "end": 2.5, "text": "b"}], "start"),
    ],
)
def test_words_out_of_order_or_overlapping_are_refused(
    words: list[dict[str, Any]], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        parse_composition({"clips": [voiced("a", "n", voiceover_words=words)]})
    assert err.value.details["field"] == f"clips[0].voiceover_words[1].{field}"


def test_seventeen_tracks_are_refused_and_sixteen_accepted() -> None:
    track = {"url": "m", "role": "sfx"}
    with pytest.raises(ValidationError) as err:
        parse_composition({"clips": [{"url": "a"}], "audio": {"tracks": [track] * 17}})
    assert err.value.details["field"] == "audio.tracks"
    parse_composition({"clips": [{"url": "a"}], "audio": {"tracks": [track] * 16}})


def test_a_track_past_the_timelines_end_is_not_heard_and_the_plan_says_so() -> None:
    sfx = {"url": "s", "role": "sfx", "start_time": 9}
    t = timeline([{"url": "a"}], audio={"tracks": [sfx]})
    assert t.duration_ms == 8000
    assert t.warnings == ("audio.tracks[0] starts at 9 s, at or after the timeline's end (8 s): "
                          "it is not heard",)  # fmt: skip


def test_a_tracks_trim_past_its_file_is_refused() -> None:
    music = {"url": "m", "role": "music", "trim_start": 25}
    field, _ = refused([{"url": "a"}], audio={"tracks": [music]})
    assert field == "audio.tracks[0].trim_start"


@pytest.mark.parametrize(
    ("track", "heard"),
    [
        ({"role": "music"}, 8000),  # music loops to the end
        ({"role": "sfx"}, 1500),  # the whole file, once
        ({"role": "sfx", "start_time": 7}, 1000),  # cut at the timeline's end
        ({"role": "voice", "trim_start": 0.5, "trim_end": 1}, 500),
        ({"role": "music", "duration": 3}, 3000),
        ({"role": "music", "loop": False}, 1500),
    ],
)
def test_how_long_a_track_sounds(track: dict[str, Any], heard: int) -> None:
    t = parse_composition({"clips": [{"url": "a"}], "audio": {"tracks": [{"url": "s", **track}]}})
    assert tracks.heard_ms(t.audio.tracks[0], 8000, DURATIONS["s"]) == heard
    assert tracks.check(t.audio, 8000, DURATIONS, Issues()) == []
