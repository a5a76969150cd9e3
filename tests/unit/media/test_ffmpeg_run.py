"""run_ffmpeg and run_capture against the fake FFmpeg: progress, failures, group kills."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.media.ffmpeg import ERROR_TAIL_BYTES, ffmpeg_version, run_ffmpeg, x264_build
from vidsvc.media.process import STDERR_TAIL_BYTES, run_capture
from vidsvc.media.progress import FFmpegProgress

ARGV = ("-nostdin", "-progress", "pipe:1", "-nostats", "-y", "out.mp4")
SelectMode = Callable[[str], Path]


@pytest.fixture
def settings(runner_settings: Callable[..., Settings]) -> Settings:
    return runner_settings(ffmpeg_bin=str(FAKE_FFMPEG), kill_grace=0.3)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "job"
    path.mkdir()
    return path


async def _pids(pidfile: Path, count: int, procs: Any) -> list[int]:
    pids: list[int] = await asyncio.to_thread(procs.read_pids, pidfile, count)
    return pids


async def test_success_reports_progress(
    fake_ffmpeg: SelectMode, settings: Settings, workdir: Path
) -> None:
    fake_ffmpeg("sleep:0.5")
    seen: list[FFmpegProgress] = []
    run = await run_ffmpeg(ARGV, settings=settings, cwd=workdir, on_progress=seen.append)
    assert run.returncode == 0 and run.elapsed_s > 0.4
    assert (workdir / "out.mp4").exists()
    assert len(seen) >= 3
    assert seen[-1].done and not any(p.done for p in seen[:-1])
    times = [p.out_time_ms for p in seen]
    assert times == sorted(times) and times[-1] == 500


async def test_nonzero_exit_has_a_sanitised_tail(
    fake_ffmpeg: SelectMode, settings: Settings, workdir: Path
) -> None:
    fake_ffmpeg("exit:1")
    with pytest.raises(ProcessingFailed) as caught:
        await run_ffmpeg(ARGV, settings=settings, cwd=workdir)
    err = caught.value
    assert err.code == "PROCESSING_FAILED"
    assert err.message.startswith("ffmpeg exited with code 1: ")
    assert "./in0.mp4: moov atom not found" in err.message
    assert "configuration" not in err.message  # indented banner lines are noise
    assert err.details["exit_code"] == 1
    tail = err.details["stderr_tail"]
    assert "Conversion failed!" in tail and len(tail.encode()) <= ERROR_TAIL_BYTES
    for text in (err.message, tail):
        assert str(workdir) not in text and os.path.realpath(workdir) not in text


async def test_segv_names_the_signal(
    fake_ffmpeg: SelectMode, settings: Settings, workdir: Path
) -> None:
    fake_ffmpeg("segv")
    with pytest.raises(ProcessingFailed) as caught:
        await run_ffmpeg(ARGV, settings=settings, cwd=workdir)
    assert caught.value.message.startswith("ffmpeg was killed by signal SIGSEGV")
    assert caught.value.details["signal"] == "SIGSEGV"
    assert caught.value.details["exit_code"] == -signal.SIGSEGV


@pytest.mark.parametrize(("mode", "count"), [("hang", 1), ("fork", 2)])
async def test_timeout_kills_the_whole_group(
    fake_ffmpeg: SelectMode,
    settings: Settings,
    workdir: Path,
    procs: Any,
    mode: str,
    count: int,
) -> None:
    pidfile = fake_ffmpeg(mode)
    started = time.monotonic()
    with pytest.raises(ProcessingFailed) as caught:
        await run_ffmpeg(ARGV, settings=settings, cwd=workdir, timeout=1.0)
    assert caught.value.message == "ffmpeg timed out after 1 s"
    assert caught.value.details == {"timeout": 1.0}
    assert time.monotonic() - started < 1.0 + settings.kill_grace + 2
    for pid in procs.read_pids(pidfile, count):  # the fork's `sleep` ignores SIGTERM too
        assert procs.wait_gone(pid, 2), f"pid {pid} survived"


async def test_job_timeout_scales_with_the_output_frame(
    fake_ffmpeg: SelectMode, runner_settings: Callable[..., Settings], workdir: Path
) -> None:
    """JOB_TIMEOUT is for a 1080p frame: twice its pixels get twice the time, smaller the same."""
    settings = runner_settings(ffmpeg_bin=str(FAKE_FFMPEG), kill_grace=0.3, job_timeout=1.0)
    fake_ffmpeg("hang")
    with pytest.raises(ProcessingFailed) as caught:
        await run_ffmpeg(ARGV, settings=settings, cwd=workdir, pixels=2 * 1920 * 1080)
    assert caught.value.details == {"timeout": 2.0}
    with pytest.raises(ProcessingFailed) as caught:
        await run_ffmpeg(ARGV, settings=settings, cwd=workdir, pixels=1280 * 720)
    assert caught.value.details == {"timeout": 1.0}


async def test_cancellation_kills_the_group(
    fake_ffmpeg: SelectMode, settings: Settings, workdir: Path, procs: Any
) -> None:
    pidfile = fake_ffmpeg("fork")
    task = asyncio.create_task(run_ffmpeg(ARGV, settings=settings, cwd=workdir))
    pids = await _pids(pidfile, 2, procs)
    assert all(procs.is_alive(pid) for pid in pids)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for pid in pids:  # killed; the kernel may take a moment to finish the exit
        assert procs.wait_gone(pid, 1), f"pid {pid} survived"


async def test_a_failing_progress_callback_stops_ffmpeg(
    fake_ffmpeg: SelectMode, settings: Settings, workdir: Path, procs: Any
) -> None:
    pidfile = fake_ffmpeg("sleep:30")

    def explode(progress: FFmpegProgress) -> None:
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        await run_ffmpeg(ARGV, settings=settings, cwd=workdir, on_progress=explode)
    assert procs.wait_gone(procs.read_pids(pidfile, 1)[0], 1)


async def test_huge_stderr_keeps_a_bounded_tail(
    fake_ffmpeg: SelectMode, settings: Settings, workdir: Path
) -> None:
    fake_ffmpeg("stderr:50")
    tracemalloc.start()
    try:
        run = await run_ffmpeg(ARGV, settings=settings, cwd=workdir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(run.stderr_tail.encode()) <= STDERR_TAIL_BYTES
    assert run.stderr_tail.endswith("last line of the log\n")
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes while draining 50 MB"


async def test_missing_binary_is_processing_failed(
    runner_settings: Callable[..., Settings], workdir: Path
) -> None:
    settings = runner_settings(ffmpeg_bin=str(workdir / "no-such-ffmpeg"))
    with pytest.raises(ProcessingFailed, match="could not be started"):
        await run_ffmpeg(ARGV, settings=settings, cwd=workdir)


PARENT = """
import asyncio, sys
from pathlib import Path
from vidsvc.config import Settings
from vidsvc.media.ffmpeg import run_ffmpeg
settings = Settings(ffmpeg_bin=sys.argv[1])
asyncio.run(run_ffmpeg(["-nostdin"], settings=settings, cwd=Path(sys.argv[2]), timeout=60))
"""


def test_ffmpeg_dies_with_a_sigkilled_parent(
    fake_ffmpeg: SelectMode, workdir: Path, procs: Any
) -> None:
    pidfile = fake_ffmpeg("hang")
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(FAKE_FFMPEG), str(workdir)])
    child = 0
    try:
        child = procs.read_pids(pidfile, 1)[0]
        assert procs.is_alive(child)
        parent.kill()
        parent.wait(5)
        assert procs.wait_gone(child, 5), "ffmpeg outlived its SIGKILLed parent"
    finally:
        parent.kill()
        parent.wait(5)
        if child and procs.is_alive(child):
            os.kill(child, signal.SIGKILL)


async def test_capture_returns_both_streams() -> None:
    got = await run_capture(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=5)
    assert (got.returncode, got.stdout, got.stderr) == (3, b"out\n", b"err\n")


async def test_capture_does_not_wait_for_leftovers_holding_the_pipes() -> None:
    started = time.monotonic()
    got = await run_capture(["sh", "-c", "sleep 30 & echo done"], timeout=10)
    assert got.stdout == b"done\n" and time.monotonic() - started < 3


async def test_capture_caps_stdout() -> None:
    got = await run_capture(["head", "-c", "20000000", "/dev/zero"], timeout=20)
    assert got.returncode == 0 and len(got.stdout) == 16 * 1024 * 1024


async def test_capture_timeout_kills_the_group(fake_ffmpeg: SelectMode, procs: Any) -> None:
    pidfile = fake_ffmpeg("fork")
    with pytest.raises(TimeoutError):
        await run_capture([str(FAKE_FFMPEG)], timeout=1)
    for pid in procs.read_pids(pidfile, 2):
        assert procs.wait_gone(pid, 1)


async def test_ffmpeg_version(runner_settings: Callable[..., Settings]) -> None:
    fake = runner_settings(ffmpeg_bin=str(FAKE_FFMPEG))
    assert await ffmpeg_version(fake) == "ffmpeg version 5.1-fake Copyright (c) the vidsvc tests"
    missing = runner_settings(ffmpeg_bin="/nonexistent/ffmpeg")
    with pytest.raises(ProcessingFailed):
        await ffmpeg_version(missing)


@pytest.mark.ffmpeg
async def test_real_ffmpeg_version(runner_settings: Callable[..., Settings]) -> None:
    assert (await ffmpeg_version(runner_settings())).startswith("ffmpeg version ")


@pytest.mark.ffmpeg
async def test_the_x264_build_is_read_from_an_encoded_frame(
    runner_settings: Callable[..., Settings],
) -> None:
    """A split's parts join only when every instance's libx264 is the same build: a Debian
    update of libx264 alone leaves `ffmpeg -version` as it was."""
    build = await x264_build(runner_settings())
    assert re.fullmatch(r"core \d+ r\d+ [0-9a-f]+", build), build
    # a binary that encodes nothing tells nothing (and matches only another such instance)
    assert await x264_build(runner_settings(ffmpeg_bin="/nonexistent/ffmpeg")) == ""


@pytest.mark.ffmpeg
async def test_real_ffmpeg_progress_and_failure(
    runner_settings: Callable[..., Settings], workdir: Path
) -> None:
    settings = runner_settings()
    head = ("-hide_banner", "-nostdin", "-progress", "pipe:1", "-nostats")
    seen: list[FFmpegProgress] = []
    source = ("-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=2")
    run = await run_ffmpeg(
        (*head, *source, "-f", "null", "-"),
        settings=settings,
        cwd=workdir,
        on_progress=seen.append,
    )
    assert run.returncode == 0 and seen[-1].done and seen[-1].out_time_ms == 2000
    assert seen[-1].frame == 50
    with pytest.raises(ProcessingFailed) as caught:
        await run_ffmpeg(
            (*head, "-i", str(workdir / "missing.mp4"), "-f", "null", "-"),
            settings=settings,
            cwd=workdir,
        )
    assert caught.value.message == (
        "ffmpeg exited with code 1: ./missing.mp4: No such file or directory"
    )
