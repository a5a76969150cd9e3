"""ENABLE_GPU_ENCODING through a stand-in FFmpeg (tests/support/fakes/nvenc_ffmpeg.py): no GPU
here.

What is checked is vidsvc's side: the start-up refusal with one line naming the flag, the
NVENC options in the render's command, and the per-job fall-back to libx264 when a session
fails. NVENC's own output has never been produced on this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.errors import ConfigError
from vidsvc.media import gpu
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render

NVENC_FFMPEG = FAKE_FFMPEG.with_name("nvenc_ffmpeg.py")


@pytest.fixture
def nvenc(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_settings: Callable[..., Settings]
) -> Callable[[str], tuple[Settings, Path]]:
    """Settings with the flag on and the stand-in as FFMPEG_BIN in `mode`; its argv log."""

    def use(mode: str) -> tuple[Settings, Path]:
        log = tmp_path / f"argv-{mode}.jsonl"
        monkeypatch.setenv("NVENC_MODE", mode)
        monkeypatch.setenv("NVENC_ARGVFILE", str(log))
        settings = make_settings(ENABLE_GPU_ENCODING="true", FFMPEG_BIN=str(NVENC_FFMPEG))
        return settings, log

    return use


def _runs(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.ffmpeg
async def test_start_up_stops_with_one_line_naming_the_flag(
    nvenc: Callable[[str], tuple[Settings, Path]], tmp_path: Path
) -> None:
    settings, _ = nvenc("nodevice")
    with pytest.raises(ConfigError, match=r"^ENABLE_GPU_ENCODING=true .*No capable devices"):
        await gpu.check(settings)
    env = {**os.environ, "ENABLE_GPU_ENCODING": "true", "FFMPEG_BIN": str(NVENC_FFMPEG)}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PORT": str(free_port())}
    served = subprocess.run(
        [sys.executable, "-m", "vidsvc", "serve"], env=env, capture_output=True, timeout=60
    )
    assert served.returncode == 2
    lines = served.stderr.decode().strip().splitlines()
    assert lines[-1].startswith("vidsvc: ENABLE_GPU_ENCODING=true but an NVENC encode failed")


@pytest.mark.ffmpeg
async def test_without_the_flag_nvenc_is_never_tried(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "argv.jsonl"
    monkeypatch.setenv("NVENC_MODE", "nodevice")
    monkeypatch.setenv("NVENC_ARGVFILE", str(log))
    await gpu.check(make_settings(FFMPEG_BIN=str(NVENC_FFMPEG)))
    assert _runs(log) == []


def _doc(media: dict[str, Path]) -> dict[str, object]:
    clip = {"url": media["a"].as_uri(), "trim_start": 0, "trim_end": 1}
    return {"clips": [clip], "output": {"resolution": "180p", "fps": 10, "crf": 23}}


@pytest.mark.ffmpeg
async def test_renders_encode_with_nvenc_at_the_crf(
    nvenc: Callable[[str], tuple[Settings, Path]], media: dict[str, Path], tmp_path: Path
) -> None:
    settings, log = nvenc("ok")
    await gpu.check(settings)
    out = tmp_path / "out.mp4"
    result = await render(
        parse_composition(_doc(media)), settings, video_out=out, thumbnail_out=tmp_path / "t.jpg"
    )
    assert out.stat().st_size > 0
    at = result.argv.index("h264_nvenc")
    assert result.argv[at - 1] == "-c:v" and "libx264" not in result.argv
    assert result.argv[result.argv.index("-cq") + 1] == "23"
    renders = [argv for argv in _runs(log) if "-progress" in argv]
    assert len(renders) == 1 and "h264_nvenc" in renders[0]


@pytest.mark.ffmpeg
async def test_a_render_whose_nvenc_session_fails_is_encoded_with_x264(
    nvenc: Callable[[str], tuple[Settings, Path]], media: dict[str, Path], tmp_path: Path
) -> None:
    settings, log = nvenc("busy")
    await gpu.check(settings)  # the one-frame check passes; the render's session does not
    out = tmp_path / "out.mp4"
    result = await render(
        parse_composition(_doc(media)), settings, video_out=out, thumbnail_out=tmp_path / "t.jpg"
    )
    assert out.stat().st_size > 0
    assert "libx264" in result.argv and "h264_nvenc" not in result.argv
    renders = [argv for argv in _runs(log) if "-progress" in argv]
    assert ["h264_nvenc" in r for r in renders] == [True, False]


def test_the_nvenc_failures_that_mean_no_session() -> None:
    from vidsvc.errors import ProcessingFailed

    no_device = ProcessingFailed("ffmpeg exited with code 1: No capable devices found")
    tail = {"stderr_tail": "[h264_nvenc @ 0x1] OpenEncodeSessionEx failed: out of memory (10)"}
    assert gpu.gave_up(no_device) and gpu.gave_up(ProcessingFailed("exit 1", details=tail))
    assert not gpu.gave_up(ProcessingFailed("ffmpeg exited with code 1: Invalid data found"))
