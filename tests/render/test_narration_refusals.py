"""Bad narrations (clips[].voiceover_url, voiceover_words), refused at render time before
anything is encoded, each with its error code and the field it names: a video without sound,
pure silence, a narration longer than MAX_DURATION_SECONDS, word timings past the narration's
end, and a file outside ALLOWED_LOCAL_DIRS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import ffmpeg, make_video
from tests.support.narration_media import TAIL_S, plain_settings, rendered, speak
from vidsvc.errors import InvalidClipFormat, InvalidTimeline, VidsvcError

pytestmark = pytest.mark.ffmpeg


def mute_video(folder: Path) -> Path:
    return make_video(folder / "mute.mp4", size="160x90", seconds=1, tone=None)


def silence(folder: Path) -> Path:
    path = folder / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "1.5", str(path))
    return path


Case = Callable[[Path, dict[str, Any]], tuple[dict[str, Any], dict[str, str]]]


def narrated_by(make: Callable[[Path], Path]) -> Case:
    def case(folder: Path, clip: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return {**clip, "voiceover_url": make(folder).as_uri()}, {}

    return case


def too_long(folder: Path, clip: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """About 3 s of speech, with the longest timeline set to 2 s."""
    speech = speak(folder, "This narration speaks for longer than the limit allows.")
    assert speech.speech_ms > 2500
    return {**clip, "voiceover_url": speech.url}, {"MAX_DURATION_SECONDS": "2"}


def words_past_the_end(
    folder: Path, clip: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    speech = speak(folder, "Two words.")
    whole = speech.speech_ms / 1000 + TAIL_S  # the file's end: its trailing silence included
    words = [
        {"start": 0.0, "end": 0.3, "text": "Two"},
        {"start": 0.3, "end": whole + 0.5, "text": "words"},
    ]
    return {**clip, "voiceover_url": speech.url, "voiceover_words": words}, {}


def outside_allowed_dirs(
    folder: Path, clip: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    speech = speak(elsewhere, "Not from here.")
    return {**clip, "voiceover_url": speech.url}, {"ALLOWED_LOCAL_DIRS": str(folder / "clips")}


@pytest.mark.parametrize(
    ("case", "error", "field", "reason"),
    [
        (narrated_by(mute_video), InvalidClipFormat, "clips[1].voiceover_url", "no audio stream"),
        (narrated_by(silence), InvalidClipFormat, "clips[1].voiceover_url", "no audible sound"),
        (too_long, InvalidTimeline, "clips[1].voiceover_url", "MAX_DURATION_SECONDS"),
        (words_past_the_end, InvalidTimeline, "clips[1].voiceover_words[1].end",
         "past the narration's end"),
        (outside_allowed_dirs, InvalidClipFormat, "clips[1].voiceover_url", "ALLOWED_LOCAL_DIRS"),
    ],
    ids=["mute-video", "silence", "too-long", "words-past-the-end", "outside-allowed-dirs"],
)  # fmt: skip
async def test_a_bad_narration_is_refused_naming_its_field(
    tmp_path: Path, case: Case, error: type[VidsvcError], field: str, reason: str
) -> None:
    (tmp_path / "clips").mkdir()
    picture = make_video(tmp_path / "clips" / "picture.mp4", size="160x90", seconds=2, tone=None)
    fine = speak(tmp_path / "clips", "This one is fine.")
    first = {"url": picture.as_uri(), "duration": "voiceover", "voiceover_url": fine.url}
    second, env = case(tmp_path, {"url": picture.as_uri(), "duration": "voiceover"})
    document = {"clips": [first, second], "output": {"resolution": "180p", "fps": 10}}
    out = tmp_path / "never.mp4"
    with pytest.raises(error) as caught:
        await rendered(document, plain_settings(tmp_path, **env), out)
    assert caught.value.code == error.code
    assert caught.value.details["field"] == field, caught.value.message
    assert caught.value.message.startswith(f"{field}: ") and reason in caught.value.message
    assert not out.exists()
