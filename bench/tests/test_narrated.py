"""The hand-written narrated short's arithmetic (bench.contenders.narrated): the clip lengths and
where narrations start, worked out as vidsvc documents them, and its ASS captions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.contenders.narrated import ass_time, captions, groups, lay_out
from bench.measures.narration import SCENES, raw_job


def _job(crossfades: list[bool]) -> dict[str, Any]:
    words = [{"start": 0.0, "end": 0.5, "text": "One"}, {"start": 0.5, "end": 1.0, "text": "two."}]
    scenes = [{"crossfade": c, "words": words} for c in crossfades]
    return {"scenes": scenes, "xfade": 0.5, "padding": 0.25, "size": [720, 1280],
            "font": "DejaVu Sans", "caption_size": 60, "outline": 3, "group_words": 6}  # fmt: skip


def test_a_clip_lasts_its_blend_its_speech_and_the_padding() -> None:
    plan = lay_out(_job([False, True, False]), [2.0, 3.0, 1.0])
    assert plan["lengths"] == pytest.approx([2.25, 3.75, 1.25])
    assert plan["starts"] == pytest.approx([0.0, 1.75, 5.5])
    # a narration starts after the crossfade in: right where the one before stops sounding
    assert plan["voice_at"] == pytest.approx([0.0, 2.25, 5.5])
    assert plan["spans"] == pytest.approx([2.25, 3.25, 1.25])
    assert plan["total"] == pytest.approx(6.75)


def test_captions_recolour_one_word_per_event_from_the_narrations_start() -> None:
    job = _job([False, True])
    plan = lay_out(job, [0.9, 1.0])
    ass = captions(job, plan, [0.9, 1.0])
    events = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert len(events) == 4
    assert events[0].startswith("Dialogue: 0,0:00:00.00,0:00:00.50,")
    assert events[1].startswith("Dialogue: 0,0:00:00.50,0:00:00.90,")  # cut at the audible end
    assert events[2].startswith("Dialogue: 0,0:00:01.15,0:00:01.65,")
    assert events[0].endswith("{\\1c&H00D7FF&}One{\\1c} two.")


def test_groups_break_after_a_sentence_and_at_the_limit() -> None:
    words = [{"text": t} for t in "a b. c d e f g".split()]
    assert [[w["text"] for w in g] for g in groups(words, 3)] == [
        ["a", "b."], ["c", "d", "e"], ["f", "g"]
    ]  # fmt: skip
    assert ass_time(3723.456) == "1:02:03.46"


def test_the_short_has_ten_scenes_and_words_within_each_speech() -> None:
    job = raw_job(Path("/media"), SCENES, "fast")
    assert len(job["scenes"]) == 10
    assert sum(s["still"] for s in job["scenes"]) == 4
    for scene, given in zip(SCENES, job["scenes"], strict=True):
        words = given["words"]
        assert [w["text"] for w in words] == scene.narration.text.split()
        assert words[-1]["end"] == pytest.approx(scene.narration.speech, abs=0.001)
