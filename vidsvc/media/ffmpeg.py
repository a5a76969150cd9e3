"""FFmpeg renders: run one (through process.py's spawn), follow its -progress, read its
usage (ffreport.py), and turn a failure into ProcessingFailed with the useful lines of its log.

A render's stderr is kept as a bounded tail; on timeout, cancellation or any error the group
gets SIGTERM, then SIGKILL after `kill_grace`, and is always waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.media import feed, ffreport
from vidsvc.media.children import BASE_PIXELS, child_limits, job_timeout, name_limit
from vidsvc.media.load import Load
from vidsvc.media.process import (
    CHUNK,
    STDERR_TAIL_BYTES,
    Tail,
    run_capture,
    spawn,
    stop_shielded,
    supervise,
)
from vidsvc.media.progress import FFmpegProgress, ProgressParser

ERROR_TAIL_BYTES = 4 * 1024  #: what an error's details may carry (clients see it)
_BORING: tuple[str, ...] = ("Conversion failed!", "Exiting normally", "frame=", "size=", "video:")
#: What -benchmark and FFREPORT add at the info level (seen only without -loglevel warning).
_BORING += ("bench:", "Report written to", "Log level:", "ffmpeg started on")
_VERSIONS: dict[str, str] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class FFmpegRun:
    returncode: int
    elapsed_s: float
    stderr_tail: str  #: last STDERR_TAIL_BYTES of stderr, workspace path replaced by "."
    cpu_s: float | None  #: this child's user + system CPU s (its -benchmark); None if unknown
    memory_peak_mb: float | None = None  #: this child's peak RSS (its -benchmark maxrss)
    last: FFmpegProgress | None = (
        None  #: FFmpeg's last -progress block (frames, fps, speed, size…)
    )


async def _pump_progress(
    stream: asyncio.StreamReader | None, on_progress: Callable[[FFmpegProgress], None] | None
) -> None:
    parser = ProgressParser()
    pending = b""
    while stream is not None and (chunk := await stream.read(CHUNK)):
        *lines, pending = (pending + chunk).split(b"\n")
        pending = pending[-CHUNK:]  # a line this long is not progress; keep memory bounded
        for line in lines:
            progress = parser.feed(line.decode("utf-8", "replace"))
            if progress is not None and on_progress is not None:
                on_progress(progress)


def _sanitise(text: str, cwd: Path) -> str:
    """Workspace paths become "." (clients must not learn the temp layout)."""
    for path in sorted({str(cwd), os.path.realpath(cwd)}, key=len, reverse=True):
        text = re.sub(re.escape(path) + r"(?![\w.-])", ".", text)  # whole names only
    return text


def _last_lines(tail: str, limit: int = 3) -> str:
    meaningful = [
        line.strip()
        for line in tail.splitlines()
        if line.strip() and not line.startswith(" ") and not line.startswith(_BORING)
    ]
    return " | ".join(meaningful[-limit:])[-1000:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # real-time signals have no name
        return str(number)


def _failure(returncode: int, tail: str) -> ProcessingFailed:
    short = tail.encode()[-ERROR_TAIL_BYTES:].decode("utf-8", "ignore")
    details: dict[str, Any] = {"exit_code": returncode, "stderr_tail": short}
    if returncode < 0:
        details["signal"] = _signal_name(-returncode)
        what = f"ffmpeg was killed by signal {details['signal']}"
    else:
        what = f"ffmpeg exited with code {returncode}"
    reason = _last_lines(short)
    return ProcessingFailed(f"{what}: {reason}" if reason else what, details=details)


async def run_ffmpeg(
    argv: Sequence[str],
    *,
    settings: Settings,
    cwd: Path,
    on_progress: Callable[[FFmpegProgress], None] | None = None,
    timeout: float | None = None,
    load: Load | None = None,
    pixels: int = BASE_PIXELS,
    parts: Sequence[Sequence[str]] = (),
    pipe: str | None = None,
) -> FFmpegRun:
    """Run `settings.ffmpeg_bin *argv` in `cwd`; raise ProcessingFailed unless it exits 0. `load`
    counts it while it runs; `pixels` (the output frame's) scales JOB_TIMEOUT and the child limits
    past 1080p; `parts` write its pictures into the FIFO `pipe`, one after another (feed.py)."""
    limit = job_timeout(settings, pixels) if timeout is None else timeout
    started = time.monotonic()
    argv = (settings.ffmpeg_bin, *ffreport.BENCHMARK_ARGS, *argv)
    fed = feed.Parts(cwd, pipe, parts)
    forked_from = ffreport.own_resident_mb()  #: what a maxrss no larger than this measures
    proc = await _started(argv, cwd, settings, pixels, fed)
    tail = Tail(STDERR_TAIL_BYTES)
    last: list[FFmpegProgress] = []
    peak = [0.0]  #: its VmHWM, read at each progress report and between them (see _peak)

    def seen(progress: FFmpegProgress) -> None:
        last[:] = [progress]
        peak[0] = max(peak[0], ffreport.resident_peak_mb(proc.pid) or 0.0)
        if on_progress is not None:
            on_progress(progress)

    readers: list[Awaitable[None]] = [_pump_progress(proc.stdout, seen), tail.drain(proc.stderr),
                                      ffreport.watch_peak(proc, peak),
                                      *fed.feeding(proc, settings, pixels)]  # fmt: skip
    try:
        returncode = await _supervised(proc, readers, settings, limit, load)
    finally:
        fed.close()
    usage = ffreport.collect(cwd)
    text = _sanitise(tail.data.decode("utf-8", "replace"), cwd)
    if returncode != 0:
        raise name_limit(_failure(returncode, text), returncode, text, settings, pixels)
    return FFmpegRun(
        returncode=returncode,
        elapsed_s=time.monotonic() - started,
        stderr_tail=text,
        cpu_s=usage.cpu_s + fed.usage.cpu_s if usage else None,
        memory_peak_mb=_peak(peak[0], usage, fed.usage, forked_from),
        last=last[0] if last else None,
    )


async def _started(
    argv: Sequence[str], cwd: Path, settings: Settings, pixels: int, fed: feed.Parts
) -> asyncio.subprocess.Process:
    """The FFmpeg process; ProcessingFailed (its parts' pipe closed) when it cannot start."""
    try:
        return await spawn(argv, cwd, child_limits(settings, pixels), ffreport.REPORT_ENV)
    except OSError as exc:
        fed.close()
        raise ProcessingFailed(f"ffmpeg could not be started: {exc.strerror}") from None


async def _supervised(
    proc: asyncio.subprocess.Process,
    readers: Sequence[Awaitable[None]],
    settings: Settings,
    limit: float,
    load: Load | None,
) -> int:
    """Its exit code, its readers run beside it; stopped on timeout, cancellation or error."""
    try:
        with load.ffmpeg() if load is not None else contextlib.nullcontext():
            async with asyncio.timeout(limit) as deadline:
                return await supervise(proc, readers)
    except TimeoutError:
        await stop_shielded(proc, settings.kill_grace)
        if not deadline.expired():
            raise
        raise ProcessingFailed(
            f"ffmpeg timed out after {limit:g} s", details={"timeout": limit}
        ) from None
    except BaseException:
        await stop_shielded(proc, settings.kill_grace)
        raise


def _peak(
    polled: float, usage: ffreport.Usage | None, parts: feed.PartsUsage, forked_from: float
) -> float | None:
    """The render's peak resident set: its FFmpeg's (VmHWM, read while it ran) plus the largest
    part's, which ran beside it. A run too short for a reading has only the -benchmark maxrss,
    which Linux carries across exec from the fork: no larger than the service's own resident
    set at the fork, it measures the service (a 0.2 s sound pass of a test worker reported
    306 MiB), so it is no figure at all."""
    maxrss = usage.memory_peak_mb if usage else None
    own = polled or (maxrss if maxrss is not None and maxrss > forked_from else None)
    return None if own is None else round(own + parts.peak_mb, 1)


async def ffmpeg_version(settings: Settings) -> str:
    """First line of `ffmpeg -version`, cached per binary; ProcessingFailed if it will not run."""
    binary = settings.ffmpeg_bin
    if binary not in _VERSIONS:
        try:
            captured = await run_capture((binary, "-version"), timeout=settings.probe_timeout)
        except (OSError, TimeoutError) as exc:
            raise ProcessingFailed(f"ffmpeg -version failed: {exc}") from None
        first = captured.stdout.decode("utf-8", "replace").partition("\n")[0].strip()
        if captured.returncode != 0 or not first:
            raise ProcessingFailed(f"ffmpeg -version exited with code {captured.returncode}")
        _VERSIONS[binary] = first
    return _VERSIONS[binary]


#: x264 writes its build into every stream it encodes (an SEI): "x264 - core 164 r3095 baee400"
_X264_BUILD = re.compile(rb"x264 - (core \d+ [^ ]+(?: [0-9a-f]+)?)")
_BUILDS: dict[str, str] = {}
X264_PROBE = "color=c=black:s=64x64:r=1"  #: the frame it encodes (tests' FFmpeg shims know it)


async def x264_build(settings: Settings) -> str:
    """The libx264 this FFmpeg encodes with ("core 164 r3095 baee400"), read from one encoded
    frame and cached per binary: the library is its own package, updated apart from FFmpeg's
    version line. "" when the frame will not encode or carries no build (then it matches only
    another instance that cannot tell either); a failed encode is asked again next time."""
    binary = settings.ffmpeg_bin
    if binary not in _BUILDS:
        argv = (binary, "-v", "error", "-f", "lavfi", "-i", X264_PROBE,
                "-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast",
                "-f", "h264", "-")  # fmt: skip
        try:
            captured = await run_capture(argv, timeout=settings.probe_timeout)
        except (OSError, TimeoutError):
            return ""
        found = _X264_BUILD.search(captured.stdout)
        build = found.group(1).decode("ascii", "replace") if found else ""
        if captured.returncode != 0:
            return build
        _BUILDS[binary] = build
    return _BUILDS[binary]
