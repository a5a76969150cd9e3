"""measure() (vidsvc/media/audible.py) on narrations FFmpeg's flite voice speaks: the audible end
against the speech's own length, leading silence kept, the threshold, refusals naming the field,
and the cache and shared runs by bytes (FFmpeg runs counted at the module's run_capture).

Each test speaks its own sentence, so the process-wide cache never answers for another test.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import FAST, ffmpeg, probe
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.media import audible
from vidsvc.media.process import Captured, run_capture

pytestmark = pytest.mark.ffmpeg
FIELD = "clips[1].voiceover_url"
#: The audible end must land within this of the truth: under a frame at 30 fps (33 ms).
TOLERANCE_MS = 15
#: AAC and MP3 end on a whole frame (1024 samples at 48 kHz: 21 ms), so a duration may run over.
FRAME_MS = 25
TAIL_S = 1.5


def speech_ms(tmp: Path, text: str) -> int:
    """The truth: how long flite speaks `text`, with nothing added (it ends on its last sound)."""
    path = tmp / f"speech-{abs(hash(text))}.wav"
    ffmpeg("-f", "lavfi", "-i", f"flite=text='{text}'", str(path))
    return round(float(probe(path)["format"]["duration"]) * 1000)


def narration(
    dest: Path,
    text: str,
    *,
    lead_ms: int = 0,
    tail: str = f"apad=pad_dur={TAIL_S}",
    rate: int = 48000,
    video_s: float | None = None,
) -> Path:
    """`text` spoken after `lead_ms` of silence, then `tail`; with a video stream if `video_s`."""
    voice = f"flite=text='{text}',adelay={lead_ms}:all=1,aresample={rate},{tail}"
    if video_s is None:
        ffmpeg("-f", "lavfi", "-i", voice, str(dest))
    else:
        picture = f"testsrc2=s=160x120:r=30:d={video_s}"
        ffmpeg("-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", voice, *FAST, "-c:a", "aac",
               str(dest))  # fmt: skip
    return dest


@pytest.fixture
def settings(runner_settings: Callable[..., Settings]) -> Settings:
    return runner_settings()


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every FFmpeg run measure() starts, by its argv."""
    runs: list[tuple[str, ...]] = []

    async def counted(argv: Any, **kwargs: Any) -> Captured:
        runs.append(tuple(argv))
        return await run_capture(argv, **kwargs)

    monkeypatch.setattr(audible, "run_capture", counted)
    return runs


@pytest.mark.parametrize(
    ("name", "lead_ms", "rate"),
    [("tail.wav", 0, 48000), ("tail.mp3", 0, 24000), ("lead.m4a", 400, 48000),
     ("lead.mp3", 700, 44100)],
)  # fmt: skip
async def test_the_audible_end_is_where_the_speech_ends(
    tmp_path: Path, settings: Settings, name: str, lead_ms: int, rate: int
) -> None:
    text = f"Every morning starts here in {name}."
    truth = speech_ms(tmp_path, text)
    path = narration(tmp_path / name, text, lead_ms=lead_ms, rate=rate)
    found = await audible.measure(path, settings, field=FIELD)
    assert abs(found.audible_ms - (lead_ms + truth)) <= TOLERANCE_MS, (found, truth)
    whole = lead_ms + truth + TAIL_S * 1000
    assert -TOLERANCE_MS <= found.duration_ms - whole <= FRAME_MS, (found, whole)
    assert found.seconds > 0


async def test_a_video_files_sound_is_measured_not_its_picture(
    tmp_path: Path, settings: Settings
) -> None:
    text = "The picture runs on after the voice."
    truth = speech_ms(tmp_path, text)
    path = narration(tmp_path / "talk.mp4", text, lead_ms=700, video_s=6)
    found = await audible.measure(path, settings, field=FIELD)
    assert abs(found.audible_ms - (700 + truth)) <= TOLERANCE_MS, (found, truth)
    whole = 700 + truth + TAIL_S * 1000  # the audio stream's length, not the 6 s of video
    assert -TOLERANCE_MS <= found.duration_ms - whole <= FRAME_MS, (found, whole)


async def test_a_narration_ending_in_sound_is_audible_to_its_end(
    tmp_path: Path, settings: Settings
) -> None:
    text = "No silence follows these words"
    truth = speech_ms(tmp_path, text)
    path = narration(tmp_path / "bare.wav", text, tail="anull")
    found = await audible.measure(path, settings, field=FIELD)
    assert abs(found.audible_ms - truth) <= TOLERANCE_MS and found.duration_ms == truth
    assert found.audible_ms <= found.duration_ms


@pytest.mark.parametrize(("level_db", "heard"), [(-60, False), (-40, True)])
async def test_a_tail_is_silent_only_below_the_threshold(
    tmp_path: Path, settings: Settings, level_db: int, heard: bool
) -> None:
    """A dither-like noise floor under -50 dBFS is silence; a hum above it is sound."""
    text = f"A tail at {-level_db} decibels follows."
    truth = speech_ms(tmp_path, text)
    amplitude = 10 ** (level_db / 20)
    hum = f"aevalsrc={amplitude}*sin(2*PI*220*t):s=48000:d={TAIL_S}[hum]"
    noise = f"anoisesrc=r=48000:a={amplitude}:d={TAIL_S}[hum]"
    graph = (f"flite=text='{text}',aresample=48000[v];{hum if heard else noise};"
             "[v][hum]concat=n=2:v=0:a=1")  # fmt: skip
    path = tmp_path / f"tail{-level_db}.wav"
    ffmpeg("-filter_complex", graph, str(path))
    found = await audible.measure(path, settings, field=FIELD)
    expected = truth + (TAIL_S * 1000 if heard else 0)
    assert abs(found.audible_ms - expected) <= TOLERANCE_MS, (found, expected)


async def test_pure_silence_is_refused_naming_the_field(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "silence.mp3"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "2", str(path))
    with pytest.raises(InvalidClipFormat) as caught:
        await audible.measure(path, settings, field=FIELD)
    assert caught.value.message == f"{FIELD}: has no audible sound (nothing above -50 dBFS)"
    assert caught.value.details == {"field": FIELD}


async def test_a_video_without_sound_is_refused(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "mute.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=1", *FAST, str(path))
    with pytest.raises(InvalidClipFormat) as caught:
        await audible.measure(path, settings, field=FIELD)
    assert caught.value.message == f"{FIELD}: has no audio stream (a narration must be sound)"


async def test_a_corrupt_file_is_refused_with_ffmpegs_reason(
    tmp_path: Path, settings: Settings
) -> None:
    whole = narration(tmp_path / "whole.mp4", "Cut in half.", video_s=2)
    path = tmp_path / "half.mp4"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # the moov is at the end
    with pytest.raises(InvalidClipFormat) as caught:
        await audible.measure(path, settings, field=FIELD)
    assert caught.value.message.startswith(f"{FIELD}: could not be read (moov atom not found")
    assert str(tmp_path) not in caught.value.message
    assert caught.value.details == {"field": FIELD}


async def test_the_same_bytes_at_another_path_start_no_ffmpeg(
    tmp_path: Path, settings: Settings, spawns: list[tuple[str, ...]]
) -> None:
    first = narration(tmp_path / "first.wav", "Measured once and remembered.")
    again = Path(shutil.copy(first, tmp_path / "again.wav"))
    measured = await audible.measure(first, settings, field=FIELD)
    hit = await audible.measure(again, settings, field="clips[4].voiceover_url")
    assert len(spawns) == 1 and "-vn" in spawns[0]
    assert measured.seconds > 0 and hit.seconds == 0.0
    assert (hit.duration_ms, hit.audible_ms) == (measured.duration_ms, measured.audible_ms)


async def test_measures_of_the_same_bytes_at_once_share_one_run(
    tmp_path: Path, settings: Settings, spawns: list[tuple[str, ...]]
) -> None:
    one = narration(tmp_path / "one.mp3", "Two callers and one run.")
    two = Path(shutil.copy(one, tmp_path / "two.mp3"))
    found = await asyncio.gather(
        audible.measure(one, settings, field="clips[0].voiceover_url"),
        audible.measure(two, settings, field="clips[1].voiceover_url"),
    )
    assert len(spawns) == 1
    assert found[0] == found[1] and found[0].seconds > 0


async def test_a_shared_refusal_names_each_callers_field(
    tmp_path: Path, settings: Settings, spawns: list[tuple[str, ...]]
) -> None:
    quiet = tmp_path / "quiet.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "1.25", str(quiet))
    fields = [f"clips[{i}].voiceover_url" for i in range(3)]
    errors = await asyncio.gather(
        *(audible.measure(quiet, settings, field=field) for field in fields),
        return_exceptions=True,
    )
    assert len(spawns) == 1
    assert [e.details if isinstance(e, InvalidClipFormat) else e for e in errors] == [
        {"field": field} for field in fields
    ]


async def test_the_cache_is_bounded(
    tmp_path: Path,
    settings: Settings,
    spawns: list[tuple[str, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audible, "CACHE_ENTRIES", 1)
    a = narration(tmp_path / "a.wav", "The first of two bounded entries.")
    b = narration(tmp_path / "b.wav", "The second of two bounded entries.")
    for path in (a, b, b, a):
        await audible.measure(path, settings, field=FIELD)
    assert len(spawns) == 3  # b hit; a had been pushed out by b


async def test_the_last_caller_going_away_stops_the_run(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run no one waits for is cancelled; the next caller starts a run of its own."""
    path = narration(tmp_path / "left.wav", "Nobody waits for this one.")
    started, stopped = asyncio.Event(), asyncio.Event()

    async def first_hangs(argv: Any, **kwargs: Any) -> Captured:
        if not started.is_set():
            started.set()
            try:
                await asyncio.Event().wait()  # an FFmpeg run that never ends by itself
            finally:
                stopped.set()
        return await run_capture(argv, **kwargs)

    monkeypatch.setattr(audible, "run_capture", first_hangs)
    leaving = asyncio.create_task(audible.measure(path, settings, field=FIELD))
    await asyncio.wait_for(started.wait(), 10)
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    await asyncio.wait_for(stopped.wait(), 10)
    found = await asyncio.wait_for(audible.measure(path, settings, field=FIELD), 30)
    assert found.audible_ms > 0 and found.seconds > 0


async def test_a_measurement_says_what_a_probe_would_and_holds_the_probes_limit(
    tmp_path: Path, runner_settings: Callable[..., Settings]
) -> None:
    """A narration-only input is measured instead of probed (work/compositions/render.py), so
    the measurement reports the demuxer and keeps MAX_INPUT_SECONDS, cached or not."""
    path = narration(tmp_path / "said.mp3", "Measured, not probed.")
    found = await audible.measure(path, runner_settings(), field=FIELD)
    info = found.media_info()
    assert (info.format_name, info.has_audio, info.has_video) == ("mp3", True, False)
    assert info.duration_ms == found.duration_ms
    for _ in range(2):  # the first answer is now cached: the limit holds on a hit too
        with pytest.raises(InvalidClipFormat, match="lasts longer than the 1 s allowed"):
            await audible.measure(path, runner_settings(max_input_seconds=1), field=FIELD)
