"""NVENC_MAX_SESSIONS: the gate around NVENC FFmpeg runs (media/nvenc_sessions.py, gpu.session),
on its own and in renders through the stand-in FFmpeg (tests/support/fakes/nvenc_ffmpeg.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.errors import ConfigError, ProcessingFailed
from vidsvc.media import gpu, nvenc_sessions
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import RenderResult, render

NVENC_FFMPEG = FAKE_FFMPEG.with_name("nvenc_ffmpeg.py")


async def _until(done: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not done():
            await asyncio.sleep(0.01)


def test_the_setting_is_validated() -> None:
    assert Settings.from_env({}).nvenc_max_sessions == 3
    assert Settings.from_env({"NVENC_MAX_SESSIONS": "1"}).nvenc_max_sessions == 1
    for bad in ("0", "-2", "many", "65"):
        with pytest.raises(ConfigError, match=r"^NVENC_MAX_SESSIONS="):
            Settings.from_env({"NVENC_MAX_SESSIONS": bad})


async def test_the_gate_holds_at_most_its_limit_and_a_waiter_can_leave() -> None:
    gate = nvenc_sessions.Gate(2)
    release = asyncio.Event()
    entered: list[int] = []

    async def hold(n: int) -> None:
        async with gate.session():
            entered.append(n)
            await release.wait()

    holders = [asyncio.create_task(hold(n)) for n in range(3)]
    await _until(lambda: gate.waiting == 1)
    assert gate.in_use == 2 and sorted(entered) == [0, 1]
    holders[2].cancel()  # a render cancelled while it waits for a session
    with pytest.raises(asyncio.CancelledError):
        await holders[2]
    assert gate.summary() == {"in_use": 2, "max": 2, "waiting": 0, "gave_up": 0}
    release.set()
    await asyncio.gather(*holders[:2])
    assert gate.in_use == 0 and entered == [0, 1]
    async with gate.session(), gate.session():  # the cancelled waiter took nothing
        assert gate.in_use == 2


async def test_only_nvenc_runs_pass_the_gate_and_failed_sessions_are_counted(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(ENABLE_GPU_ENCODING="true", NVENC_MAX_SESSIONS="1")
    gate = nvenc_sessions.gate(1)
    nvenc, x264 = ["-i", "in.mp4", "-c:v", gpu.NVENC], ["-i", "in.mp4", "-c:v", gpu.X264]
    async with gpu.session(nvenc, settings):
        assert gate.in_use == 1
        async with gpu.session(x264, settings):  # libx264 never waits for the card
            assert gate.in_use == 1
    no_session = ProcessingFailed("ffmpeg exited with code 1: OpenEncodeSessionEx failed")
    for failure in (no_session, ProcessingFailed("ffmpeg exited with code 1: Invalid data")):
        with pytest.raises(ProcessingFailed):
            async with gpu.session(nvenc, settings):
                raise failure
    assert gate.summary() == {"in_use": 0, "max": 1, "waiting": 0, "gave_up": 1}


@pytest.fixture
def one_session(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_settings: Callable[..., Settings]
) -> tuple[Settings, Path]:
    """NVENC on through the stand-in (every session works), NVENC_MAX_SESSIONS=1; argv log."""
    log = tmp_path / "argv.jsonl"
    monkeypatch.setenv("NVENC_MODE", "ok")
    monkeypatch.setenv("NVENC_ARGVFILE", str(log))
    env = {"ENABLE_GPU_ENCODING": "true", "FFMPEG_BIN": str(NVENC_FFMPEG)}
    return make_settings(NVENC_MAX_SESSIONS="1", **env), log


def _renders(log: Path) -> list[list[str]]:
    runs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [argv for argv in runs if "-progress" in argv]


def _start(settings: Settings, media: dict[str, Path], out: Path) -> asyncio.Task[RenderResult]:
    clip = {"url": media["a"].as_uri(), "trim_start": 0, "trim_end": 1}
    comp = parse_composition({"clips": [clip], "output": {"resolution": "180p", "fps": 10}})
    return asyncio.create_task(
        render(comp, settings, video_out=out / "out.mp4", thumbnail_out=out / "t.jpg")
    )


@pytest.mark.ffmpeg
async def test_a_render_waits_for_a_free_session_before_ffmpeg_starts(
    one_session: tuple[Settings, Path], media: dict[str, Path], tmp_path: Path
) -> None:
    settings, log = one_session
    gate = nvenc_sessions.gate(1)
    async with gate.session():  # another render holds the only session
        task = _start(settings, media, tmp_path)
        await _until(lambda: gate.waiting == 1)
        await asyncio.sleep(0.2)
        assert _renders(log) == [] and not task.done()
    result = await task
    assert "h264_nvenc" in result.argv  # encoded with NVENC once a session was free
    assert [("h264_nvenc" in argv) for argv in _renders(log)] == [True]
    assert (tmp_path / "out.mp4").stat().st_size > 0
    assert gate.summary() == {"in_use": 0, "max": 1, "waiting": 0, "gave_up": 0}


@pytest.mark.ffmpeg
async def test_a_render_waiting_for_a_session_can_be_cancelled(
    one_session: tuple[Settings, Path], media: dict[str, Path], tmp_path: Path
) -> None:
    settings, log = one_session
    gate = nvenc_sessions.gate(1)
    async with gate.session():
        task = _start(settings, media, tmp_path)
        await _until(lambda: gate.waiting == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gate.waiting == 0 and gate.in_use == 1  # only the test's own session
    assert _renders(log) == [] and not (tmp_path / "out.mp4").exists()
    assert list((tmp_path / "work").iterdir()) == []  # its workspace is gone too


@pytest.fixture
def card(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The stand-in's card allows one NVENC session at a time (a consumer card's cap)."""
    monkeypatch.setenv("NVENC_CARD_SESSIONS", "1")
    monkeypatch.setenv("NVENC_CARD_DIR", str(tmp_path / "card"))
    return tmp_path / "card"


@pytest.mark.ffmpeg
def test_the_stand_in_card_refuses_a_session_over_its_cap(card: Path) -> None:
    def nvenc(seconds: float, *realtime: str) -> list[str]:
        source = f"color=c=gray:s=64x64:r=25:d={seconds}"
        return [sys.executable, str(NVENC_FFMPEG), "-v", "error", *realtime, "-f", "lavfi",
                "-i", source, "-c:v", "h264_nvenc", "-f", "null", "-"]  # fmt: skip

    holder = subprocess.Popen(nvenc(30, "-re"), stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (card / f"{holder.pid}.session").exists():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.02)
        refused = subprocess.run(nvenc(0.04), capture_output=True, text=True, timeout=30)
        assert refused.returncode == 1 and "OpenEncodeSessionEx failed" in refused.stderr
    finally:
        holder.kill()
        holder.wait()
    assert subprocess.run(nvenc(0.04), capture_output=True, timeout=30).returncode == 0


@pytest.mark.ffmpeg
async def test_renders_at_once_never_open_more_sessions_than_allowed(
    one_session: tuple[Settings, Path], card: Path, media: dict[str, Path], tmp_path: Path
) -> None:
    settings, log = one_session
    outs = [tmp_path / f"r{i}" for i in range(3)]
    results = await asyncio.gather(*(_start(settings, media, out) for out in outs))
    assert all("h264_nvenc" in result.argv for result in results)  # none fell back
    assert [("h264_nvenc" in argv) for argv in _renders(log)] == [True, True, True]
    assert nvenc_sessions.gate(1).summary()["gave_up"] == 0
