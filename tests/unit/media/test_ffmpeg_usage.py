"""Per-child usage: the CPU time and peak memory of THE FFmpeg child (its -benchmark report),
FFmpeg's last -progress figures, the running-renders count, and job_metrics rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from tests.support.jobs import make_job
from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.jobs import JobKind
from vidsvc.media import ffreport
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.load import Load
from vidsvc.media.progress import FFmpegProgress
from vidsvc.runner.metrics import record_job_metrics
from vidsvc.runner.usage import Usage
from vidsvc.store import Stores
from vidsvc.store.memory import MemoryJobStore

HEAD = ("-hide_banner", "-nostdin", "-y", "-nostats", "-loglevel", "warning")
HEAD += ("-progress", "pipe:1")


def test_parse_takes_the_last_bench_lines() -> None:
    text = (
        "ffmpeg started on …\nbench: utime=9.000s stime=9.000s rtime=9.000s\n"
        "bench: utime=1.250s stime=0.250s rtime=2.000s\nbench: maxrss=76104kB\n"
        "[libx264 @ 0x1] kb/s:62.09\n"
    )
    usage = ffreport.parse(text)
    assert usage == ffreport.Usage(cpu_s=1.5, wall_s=2.0, memory_peak_mb=round(76104 / 1024, 1))
    assert ffreport.parse("Log level: 32\nno bench here\n") is None


@pytest.mark.ffmpeg
async def test_a_real_render_reports_its_own_cpu_memory_and_figures(
    runner_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    seen: list[FFmpegProgress] = []
    load = Load()
    # Paced in real time (-re): 2 s however loaded the machine, so the peak is read while it
    # runs (an unpaced 0.2 s pass could end between two readings and report none, which is right).
    source = ("-re", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2")
    encode = ("-c:v", "libx264", "-preset", "ultrafast", "out.mp4")
    run = await run_ffmpeg(
        (*HEAD, *source, *encode),
        settings=runner_settings(),
        cwd=tmp_path,
        on_progress=seen.append,
        load=load,
    )
    assert run.cpu_s is not None and run.cpu_s > 0
    assert run.memory_peak_mb is not None and 5 < run.memory_peak_mb < 2048
    assert run.last == seen[-1] and run.last.done and run.last.frame == 50
    assert run.last.total_size == (tmp_path / "out.mp4").stat().st_size
    assert not (tmp_path / ffreport.REPORT_FILE).exists()  # read, then removed
    assert "bench" not in run.stderr_tail  # stderr stays the warnings-only error source
    assert load.encoding == 0


@pytest.mark.ffmpeg
async def test_concurrent_children_are_not_blurred(
    runner_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A realtime-paced idle child spans a CPU-heavy one: a process-wide RUSAGE_CHILDREN delta
    would charge the heavy child's CPU to the idle one, which finishes last."""
    settings = runner_settings()
    (tmp_path / "idle").mkdir()
    (tmp_path / "busy").mkdir()
    idle = ("-re", "-f", "lavfi", "-i", "color=s=16x16:r=5:d=3", "-f", "null", "-")
    busy = ("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4")
    busy += ("-c:v", "libx264", "-preset", "veryfast", "out.mp4")
    counts: list[int] = []
    load = Load()

    async def heavy_later() -> FFmpegRun:
        await asyncio.sleep(0.3)
        counts.append(load.encoding)  # the idle one is running
        busy_dir = tmp_path / "busy"
        return await run_ffmpeg((*HEAD, *busy), settings=settings, cwd=busy_dir, load=load)

    slow, heavy = await asyncio.gather(
        run_ffmpeg((*HEAD, *idle), settings=settings, cwd=tmp_path / "idle", load=load),
        heavy_later(),
    )
    assert counts == [1] and load.encoding == 0
    assert slow.cpu_s is not None and heavy.cpu_s is not None
    assert slow.elapsed_s > heavy.elapsed_s * 0.5 or slow.elapsed_s > 2.5  # it did span
    assert slow.cpu_s < heavy.cpu_s / 3, (slow.cpu_s, heavy.cpu_s)


async def test_a_fake_ffmpeg_has_no_cpu_figure_rather_than_a_guess(
    runner_settings: Callable[..., Settings],
    fake_ffmpeg: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    fake_ffmpeg("sleep:0.2")
    args = ("-nostdin", "-progress", "pipe:1", "-nostats", "-y", "out.mp4")
    run = await run_ffmpeg(
        args, settings=runner_settings(ffmpeg_bin=str(FAKE_FFMPEG)), cwd=tmp_path
    )
    # no -benchmark report: no CPU figure; the peak memory is the process's own VmHWM, read
    # from /proc while it ran (the fake is a small Python process)
    assert run.cpu_s is None
    assert run.memory_peak_mb is not None and 1 < run.memory_peak_mb < 200
    assert Usage.of([run]).to_dict()["cpu_seconds"] is None


def _run(cpu: float | None, rss: float | None, out_ms: int, wall: float) -> FFmpegRun:
    last = FFmpegProgress(out_time_ms=out_ms, speed=1.0, frame=out_ms // 40, done=True)
    return FFmpegRun(
        returncode=0, elapsed_s=wall, stderr_tail="", cpu_s=cpu, memory_peak_mb=rss, last=last
    )


@pytest.mark.ffmpeg
async def test_a_run_too_short_to_read_is_not_given_the_services_memory(
    runner_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that ends before its VmHWM is read (injected: no reading succeeds) has only
    FFmpeg's -benchmark maxrss, which Linux carries over from the fork: from a process holding
    400 MiB, a 10 ms FFmpeg reported about 416 MiB. Such a figure is dropped, not reported."""
    held = bytearray(400 * 2**20)
    held[::4096] = b"\x01" * len(held[::4096])  # resident, not just reserved
    monkeypatch.setattr(ffreport, "resident_peak_mb", lambda pid: None)
    args = ("-nostdin", "-f", "lavfi", "-i", "anullsrc", "-t", "0.01", "-f", "null", "-")
    run = await run_ffmpeg(args, settings=runner_settings(), cwd=tmp_path)
    assert run.cpu_s is not None  # the -benchmark report was read: only its maxrss is dropped
    assert run.memory_peak_mb is None
    assert len(held) == 400 * 2**20


async def test_one_metrics_row_per_job_summing_its_runs() -> None:
    store = MemoryJobStore()
    job = await store.create(make_job(kind=JobKind.CLIPS))
    runs = [_run(1.0, 80.0, 2000, 1.5), _run(2.5, 120.0, 3000, 2.0)]
    assert Usage.of(runs).to_dict() == {
        "render_seconds": 3.5,
        "cpu_seconds": 3.5,
        "memory_peak_mb": 120.0,
        "output_seconds": 5.0,
    }
    assert (
        Usage.of([_run(1.0, None, 1000, 1.0), _run(None, None, 1000, 1.0)]).to_dict()[
            "cpu_seconds"
        ]
        is None
    )  # a partial sum would pass for the whole
    stores = cast(Stores, SimpleNamespace(jobs=store))
    await record_job_metrics(stores, job, runs, timings={"encoding": 3.4})
    (row,) = await store.metrics(job.id)
    assert (row["job_type"], row["duration_seconds"], row["cpu_time"]) == ("clips", 3.5, 3.5)
    assert row["memory_peak_mb"] == 120.0
    assert [r["frames"] for r in row["ffmpeg_stats"]["runs"]] == [50, 75]
    assert row["ffmpeg_stats"]["timings"] == {"encoding": 3.4}


def test_a_child_that_has_not_exec_d_has_no_peak_yet() -> None:
    """Before its exec, a child is a fork of this process: its VmHWM is ours (hundreds of MiB
    in a busy test worker or service), not the render's. A fork that waits, then execs
    `sleep`: the reading is None until the exec, then the new image's."""
    import os
    import time

    pid = os.fork()
    if pid == 0:  # the child: never back into pytest
        try:
            time.sleep(1.5)
            os.execv("/bin/sleep", ["sleep", "3"])
        finally:
            os._exit(1)
    try:
        time.sleep(0.5)
        assert ffreport.resident_peak_mb(pid) is None
        deadline = time.monotonic() + 10
        while not (peak := ffreport.resident_peak_mb(pid)):  # 0 for a moment inside the exec
            assert time.monotonic() < deadline, "no reading after the exec"
            time.sleep(0.1)
        assert 0 < peak < 50  # sleep's own image, not this process's
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
