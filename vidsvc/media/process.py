"""The only place in vidsvc that starts a subprocess; FFmpeg renders (ffmpeg.py) and short
tools (`run_capture`: ffprobe, fc-match, lavfi generators) all go through `spawn`.

Every child runs in its own session (so the whole process group can be signalled), with
PR_SET_PDEATHSIG so it dies with us even if we are SIGKILLed, no core dumps, the child limits
(children.py) and the instance mark. On timeout, cancellation or any error the group gets
SIGTERM, then SIGKILL after a grace, and is always waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc.media.children import ChildLimits, child_env

STDERR_TAIL_BYTES = 64 * 1024  #: what a run keeps of a child's log
CAPTURE_STDOUT_BYTES = 16 * 1024 * 1024  #: cap on a short tool's stdout
CHUNK = 64 * 1024
_PR_SET_PDEATHSIG = 1
#: Stop sequences still running after their caller was cancelled twice (tasks are weak refs).
_BACKGROUND: set[asyncio.Task[Any]] = set()
#: Forks one at a time (spawn). A Lock binds to the loop that first waits on it, so one per
#: loop: the service has one, tests and the CLI make several.
_FORKING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


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
        if limits is not None:  # values computed in the parent (docs/reliability.md S6)
            limits.apply()

    return setup


async def spawn(
    argv: Sequence[str],
    cwd: Path | None,
    limits: ChildLimits | None = None,
    extra_env: dict[str, str] | None = None,
    stdout: int | None = None,
) -> asyncio.subprocess.Process:
    """Start `argv` in its own process group under `limits`; stdout is a pipe to us unless
    `stdout` gives a descriptor to write to (a render part's pipe: graph/parts.py)."""
    env = child_env(extra_env)
    # One fork per turn of the loop: a fork runs on the loop thread and copies the service's
    # page tables (about 12 ms at 300 MB resident, with preexec_fn, which rules out vfork), so
    # 31 probes started together held the loop 0.4 s; one at a time, timers run in between.
    async with _FORKING.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
        # PDEATHSIG fires when the forking *thread* exits: children are forked from the loop
        # thread.
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_child_setup(os.getpid(), limits),
            env=env,  # carries the instance mark that the start-up sweep looks for
        )
        await asyncio.sleep(0)  # the next fork waits for the loop's next turn
    return proc


def signal_group(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the leader's pid


async def leader_exit(proc: asyncio.subprocess.Process) -> int:
    """Wait for the leader alone: proc.wait() also waits for every holder of our pipes."""
    delay = 0.005
    while proc.returncode is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
    return proc.returncode


async def _stop_group(proc: asyncio.subprocess.Process, grace: float) -> None:
    if proc.returncode is None and grace > 0:
        signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(leader_exit(proc), grace)
    signal_group(proc, signal.SIGKILL)  # also the leader's leftovers, if it did exit
    await leader_exit(proc)
    with contextlib.suppress(TimeoutError):  # a child that left our session keeps the pipes
        await asyncio.wait_for(proc.wait(), 5)


async def stop_shielded(proc: asyncio.subprocess.Process, grace: float) -> None:
    task = asyncio.ensure_future(_stop_group(proc, grace))
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    await asyncio.shield(task)


async def supervise(proc: asyncio.subprocess.Process, readers: Sequence[Awaitable[None]]) -> int:
    """Run the pipe readers until the leader exits, surfacing a reader's error at once."""
    tasks = [asyncio.ensure_future(r) for r in readers]
    exit_task = asyncio.ensure_future(leader_exit(proc))
    pending: set[asyncio.Future[Any]] = {exit_task, *tasks}
    try:
        while not exit_task.done():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        signal_group(proc, signal.SIGKILL)  # leftovers would hold our pipes open
        await asyncio.gather(*tasks)
        return await proc.wait()
    finally:
        for task in (exit_task, *tasks):
            task.cancel()
        await asyncio.gather(exit_task, *tasks, return_exceptions=True)


class Tail:
    """The last `cap` bytes of a stream, whatever its length."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        while stream is not None and (chunk := await stream.read(CHUNK)):
            self.data += chunk
            if len(self.data) > self.cap:
                del self.data[: -self.cap]


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
    proc = await spawn(argv, cwd, limits)
    out, err = bytearray(), Tail(STDERR_TAIL_BYTES)

    async def read_stdout(stream: asyncio.StreamReader | None) -> None:
        while stream is not None and (chunk := await stream.read(CHUNK)):
            out.extend(chunk[: CAPTURE_STDOUT_BYTES - len(out)])  # keep draining past the cap

    try:
        async with asyncio.timeout(timeout):
            returncode = await supervise(proc, (read_stdout(proc.stdout), err.drain(proc.stderr)))
    except BaseException:
        await stop_shielded(proc, 0)  # short tools get no grace: nothing to flush
        raise
    return Captured(returncode=returncode, stdout=bytes(out), stderr=bytes(err.data))
