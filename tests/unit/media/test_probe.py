"""probe() on real media made with lavfi, and on non-media in disguise (B4, B5, B6, B7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, ProcessingFailed
from vidsvc.media import probe as probe_module
from vidsvc.media.probe import probe
from vidsvc.media.process import Captured

pytestmark = pytest.mark.ffmpeg
FIELD = "clips[1].url"


async def test_audio_and_video(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings]
) -> None:
    info = await probe(probe_media["av.mp4"], runner_settings(), field=FIELD)
    assert (info.has_video, info.has_audio) == (True, True)
    assert (info.width, info.height, info.fps, info.rotation) == (160, 120, 25.0, 0)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.nb_streams == 2 and "mp4" in info.format_name
    assert 950 <= info.duration_ms <= 1100


async def test_video_without_audio(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings]
) -> None:
    info = await probe(probe_media["video.mp4"], runner_settings(), field=FIELD)
    assert (info.has_video, info.has_audio, info.audio_codec) == (True, False, None)
    assert info.duration_ms == 1000


@pytest.mark.parametrize(("name", "codec"), [("audio.mp3", "mp3"), ("audio.wav", "pcm_s16le")])
async def test_audio_only(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings], name: str, codec: str
) -> None:
    info = await probe(probe_media[name], runner_settings(), field=FIELD)
    assert (info.has_video, info.has_audio, info.audio_codec) == (False, True, codec)
    assert (info.width, info.height, info.fps) == (None, None, None)
    assert 950 <= info.duration_ms <= 1100


async def test_rotation_is_reported(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings]
) -> None:
    info = await probe(probe_media["rotated.mp4"], runner_settings(), field=FIELD)
    assert info.rotation == 90
    assert (info.width, info.height) == (160, 120)  # as stored


@pytest.mark.parametrize(
    ("name", "limits", "words"),
    [
        (
            "av.mp4",
            {"max_input_pixels": 160 * 120 - 1},
            "160x120 is more than 19199 pixels (MAX_INPUT_PIXELS)",
        ),
        ("av.mp4", {"max_input_seconds": 0.5}, "lasts longer than the 0.5 s allowed"),
        ("av.mp4", {"max_input_streams": 1}, "has 2 streams (at most 1)"),
        ("subtitles.mkv", {}, "has no video or audio stream"),
    ],
)
async def test_limits(
    probe_media: dict[str, Path],
    runner_settings: Callable[..., Settings],
    name: str,
    limits: dict[str, float],
    words: str,
) -> None:
    with pytest.raises(InvalidClipFormat) as caught:
        await probe(probe_media[name], runner_settings(**limits), field=FIELD)
    assert caught.value.message == f"{FIELD}: {words}"
    assert caught.value.details == {"field": FIELD}
    # With validation off only hard failures refuse: the limits no longer apply.
    relaxed = runner_settings(run_ffprobe_validation=False, **limits)
    assert (await probe(probe_media[name], relaxed, field=FIELD)).duration_ms > 0


async def test_missing_ffprobe(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings]
) -> None:
    settings = runner_settings(ffprobe_bin="/nonexistent/ffprobe")
    with pytest.raises(ProcessingFailed, match="ffprobe could not be started"):
        await probe(probe_media["av.mp4"], settings, field=FIELD)


async def test_the_same_bytes_are_probed_once_and_limits_still_apply(
    probe_media: dict[str, Path],
    runner_settings: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[str] = []
    real = probe_module.run_capture

    async def counted(argv: list[str], **kw: object) -> Captured:
        runs.append(argv[0])  # a spy: ffprobe runs for real
        return await real(argv, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(probe_module, "run_capture", counted)
    fresh = tmp_path / "clip.mp4"  # bytes no other test probed: a first probe runs ffprobe
    fresh.write_bytes(probe_media["av.mp4"].read_bytes() + b"\0" * 7)
    first = await probe(fresh, runner_settings(), field=FIELD)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(fresh.read_bytes())
    assert await probe(copy, runner_settings(), field=FIELD) == first
    assert runs.count(runner_settings().ffprobe_bin) == 1
    with pytest.raises(InvalidClipFormat, match="MAX_INPUT_PIXELS"):  # a hit is checked too
        await probe(copy, runner_settings(max_input_pixels=100), field=FIELD)
