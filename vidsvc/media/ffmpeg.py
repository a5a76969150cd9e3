"""The only place in vidsvc that starts a subprocess: FFmpeg renders and short tools.

Every child runs in its own session (so the whole process group can be signalled),
with PR_SET_PDEATHSIG so it dies with us even if we are SIGKILLed, and no core dumps.
A render's stderr is kept as a bounded tail; on timeout, cancellation or any error the
group gets SIGTERM, then SIGKILL after `kill_grace`, and is always waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.media import ffreport
from vidsvc.media.children import ChildLimits, child_env, child_limits, name_limit
from vidsvc.media.progress import Progress, ProgressParser

STDERR_TAIL_BYTES = 64 * 1024  #: what a render keeps of FFmpeg's log (for logs)
ERROR_TAIL_BYTES = 4 * 1024  #: what an error's details may carry (clients see it)
CAPTURE_STDOUT_BYTES = 16 * 1024 * 1024  #: cap on a short tool's stdout
_CHUNK = 64 * 1024
_PR_SET_PDEATHSIG = 1
_BORING: tuple[str, ...] = ("Conversion failed!", "Exiting normally", "frame=", "size=", "video:")
#: What -benchmark and FFREPORT add at the info level (seen only without -loglevel warning).
_BORING += ("bench:", "Report written to", "Log level:", "ffmpeg started on")
#: Stop sequences still running after their caller was cancelled twice (tasks are weak refs).
_BACKGROUND: set[asyncio.Task[Any]] = set()
_VERSIONS: dict[str, str] = {}
_RUNNING = [0]  #: renders (run_ffmpeg) under way in this process: see running_renders()


@dataclass(frozen=True, slots=True, kw_only=True)
class FFmpegRun:
    returncode: int
    elapsed_s: float
    stderr_tail: str  #: last STDERR_TAIL_BYTES of stderr, workspace path replaced by "."
    cpu_s: float | None  #: this child's user + system CPU s (its -benchmark); None if unknown
    memory_peak_mb: float | None = None  #: this child's peak RSS (its -benchmark maxrss)
    last: Progress | None = None  #: FFmpeg's last -progress block (frames, fps, speed, size…)


@dataclass(frozen=True, slots=True, kw_only=True)
class Captured:
    returncode: int
    stdout: bytes
    stderr: bytes


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    # Loaded in the parent: the forked child must not dlopen anything.
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


_PRCTL = _load_prctl()


def _child_setup(parent: int, limits: ChildLimits | None) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limits is not None:  # values computed in the parent (RELIABILITY.md S6)
            limits.apply()

    return setup


async def _spawn(
    argv: Sequence[str],
    cwd: Path | None,
    limits: ChildLimits | None = None,
    extra_env: dict[str, str] | None = None,
) -> asyncio.subprocess.Process:
    env = child_env(extra_env)
    # PDEATHSIG fires when the forking *thread* exits: children are forked from the loop thread.
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_child_setup(os.getpid(), limits),
        env=env,  # carries the instance mark that the start-up sweep looks for
    )


def _signal_group(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the leader's pid


async def _leader_exit(proc: asyncio.subprocess.Process) -> int:
    """Wait for the leader alone: proc.wait() also waits for every holder of our pipes."""
    delay = 0.005
    while proc.returncode is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
    return proc.returncode


async def _stop_group(proc: asyncio.subprocess.Process, grace: float) -> None:
    if proc.returncode is None and grace > 0:
        _signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_leader_exit(proc), grace)
    _signal_group(proc, signal.SIGKILL)  # also the leader's leftovers, if it did exit
    await _leader_exit(proc)
    with contextlib.suppress(TimeoutError):  # a child that left our session keeps the pipes
        await asyncio.wait_for(proc.wait(), 5)


async def _stop_shielded(proc: asyncio.subprocess.Process, grace: float) -> None:
    task = asyncio.ensure_future(_stop_group(proc, grace))
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    await asyncio.shield(task)


async def _supervise(proc: asyncio.subprocess.Process, readers: Sequence[Awaitable[None]]) -> int:
    """Run the pipe readers until the leader exits, surfacing a reader's error at once."""
    tasks = [asyncio.ensure_future(r) for r in readers]
    exit_task = asyncio.ensure_future(_leader_exit(proc))
    pending: set[asyncio.Future[Any]] = {exit_task, *tasks}
    try:
        while not exit_task.done():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        _signal_group(proc, signal.SIGKILL)  # leftovers would hold our pipes open
        await asyncio.gather(*tasks)
        return await proc.wait()
    finally:
        for task in (exit_task, *tasks):
            task.cancel()
        await asyncio.gather(exit_task, *tasks, return_exceptions=True)


class _Tail:
    """The last `cap` bytes of a stream, whatever its length."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        while stream is not None and (chunk := await stream.read(_CHUNK)):
            self.data += chunk
            if len(self.data) > self.cap:
                del self.data[: -self.cap]


async def _pump_progress(
    stream: asyncio.StreamReader | None, on_progress: Callable[[Progress], None] | None
) -> None:
    parser = ProgressParser()
    pending = b""
    while stream is not None and (chunk := await stream.read(_CHUNK)):
        *lines, pending = (pending + chunk).split(b"\n")
        pending = pending[-_CHUNK:]  # a line this long is not progress; keep memory bounded
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
    on_progress: Callable[[Progress], None] | None = None,
    timeout: float | None = None,
) -> FFmpegRun:
    """Run `settings.ffmpeg_bin *argv` in `cwd`; raise ProcessingFailed unless it exits 0."""
    limit = settings.job_timeout if timeout is None else timeout
    started = time.monotonic()
    argv = (settings.ffmpeg_bin, *ffreport.BENCHMARK_ARGS, *argv)
    try:
        proc = await _spawn(argv, cwd, child_limits(settings), ffreport.REPORT_ENV)
    except OSError as exc:
        raise ProcessingFailed(f"ffmpeg could not be started: {exc.strerror}") from None
    tail = _Tail(STDERR_TAIL_BYTES)
    last: list[Progress] = []

    def seen(progress: Progress) -> None:
        last[:] = [progress]
        if on_progress is not None:
            on_progress(progress)

    readers = (_pump_progress(proc.stdout, seen), tail.drain(proc.stderr))
    _RUNNING[0] += 1
    try:
        async with asyncio.timeout(limit) as deadline:
            returncode = await _supervise(proc, readers)
    except TimeoutError:
        await _stop_shielded(proc, settings.kill_grace)
        if not deadline.expired():
            raise
        raise ProcessingFailed(
            f"ffmpeg timed out after {limit:g} s", details={"timeout": limit}
        ) from None
    except BaseException:
        await _stop_shielded(proc, settings.kill_grace)
        raise
    finally:
        _RUNNING[0] -= 1
    usage = ffreport.collect(cwd)
    text = _sanitise(tail.data.decode("utf-8", "replace"), cwd)
    if returncode != 0:
        raise name_limit(_failure(returncode, text), returncode, text, settings)
    return FFmpegRun(
        returncode=returncode,
        elapsed_s=time.monotonic() - started,
        stderr_tail=text,
        cpu_s=usage.cpu_s if usage else None,
        memory_peak_mb=usage.memory_peak_mb if usage else None,
        last=last[0] if last else None,
    )


def running_renders() -> int:
    """FFmpeg renders running in this process now (the metrics gauge; the threads policy)."""
    return _RUNNING[0]


async def run_capture(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    limits: ChildLimits | None = None,
) -> Captured:
    """Run a short tool (full argv, e.g. ffprobe) to completion and capture its output.

    TimeoutError after `timeout` s (its process group killed first); OSError if it
    cannot be started. stdout is capped at CAPTURE_STDOUT_BYTES, stderr keeps its tail.
    """
    proc = await _spawn(argv, cwd, limits)
    out, err = bytearray(), _Tail(STDERR_TAIL_BYTES)

    async def read_stdout(stream: asyncio.StreamReader | None) -> None:
        while stream is not None and (chunk := await stream.read(_CHUNK)):
            out.extend(chunk[: CAPTURE_STDOUT_BYTES - len(out)])  # keep draining past the cap

    try:
        async with asyncio.timeout(timeout):
            returncode = await _supervise(proc, (read_stdout(proc.stdout), err.drain(proc.stderr)))
    except BaseException:
        await _stop_shielded(proc, 0)  # short tools get no grace: nothing to flush
        raise
    return Captured(returncode=returncode, stdout=bytes(out), stderr=bytes(err.data))


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
