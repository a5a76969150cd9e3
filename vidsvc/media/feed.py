"""A render's parts (graph/parts.py), run one after another into the pipe its main FFmpeg reads.

The pipe is a FIFO in the workspace that this process holds open for reading and writing from
before the main FFmpeg starts to after the last part ends: the main FFmpeg's open never waits,
it never sees an end of file between two parts, and it sees one after the last. Each part
writes straight into the pipe (its stdout), so no picture passes through Python. A part that
fails fails the render (the main FFmpeg would otherwise end early on a short stream and look
done); if the main FFmpeg ends first, the running part is stopped, since nothing reads the
pipe any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.media import ffreport
from vidsvc.media.children import child_limits
from vidsvc.media.process import STDERR_TAIL_BYTES, Tail, leader_exit, spawn, stop_shielded

PIPE_BYTES = 1 << 20  #: Linux's default cap for an unprivileged pipe (64 KiB otherwise)
PART_REPORT = ".part-report.log"
_F_SETPIPE_SZ = 1031


@dataclass(slots=True)
class PartsUsage:
    cpu_s: float = 0.0  #: the parts' CPU seconds, summed
    peak_mb: float = 0.0  #: the largest part's peak resident set (one runs at a time)


class Pipe:
    """The FIFO, held open (read and write) by this process for as long as parts may write."""

    def __init__(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):  # an earlier attempt's (NVENC gave up)
            path.unlink()
        os.mkfifo(path, 0o600)
        self.fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        with contextlib.suppress(OSError):  # a smaller pipe only costs more wake-ups
            fcntl.fcntl(self.fd, _F_SETPIPE_SZ, PIPE_BYTES)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Parts:
    """One render's parts and their pipe (none: a render in one FFmpeg, nothing to feed)."""

    def __init__(self, cwd: Path, pipe: str | None, parts: Sequence[Sequence[str]]) -> None:
        self.cwd, self.parts, self.usage = cwd, parts, PartsUsage()
        try:
            self.pipe = Pipe(cwd / pipe) if parts and pipe else None
        except OSError as exc:  # TMP_DIR on a filesystem without FIFOs
            raise ProcessingFailed(
                f"the render's pipe could not be made: {exc.strerror}"
            ) from None

    def feeding(
        self, main: asyncio.subprocess.Process, settings: Settings, pixels: int
    ) -> list[Awaitable[None]]:
        """What runs beside the main FFmpeg: the parts, in order, into its pipe."""
        if self.pipe is None:
            return []
        return [feed(main, self.pipe, self.parts, settings=settings, cwd=self.cwd, pixels=pixels,
                     usage=self.usage)]  # fmt: skip

    def close(self) -> None:
        if self.pipe is not None:
            self.pipe.close()


async def feed(
    main: asyncio.subprocess.Process,
    pipe: Pipe,
    parts: Sequence[Sequence[str]],
    *,
    settings: Settings,
    cwd: Path,
    pixels: int,
    usage: PartsUsage,
) -> None:
    """Run `parts` in order into `pipe`, then close it (the main FFmpeg's end of input)."""
    main_exit = asyncio.ensure_future(leader_exit(main))
    try:
        for number, argv in enumerate(parts):
            if not await _part(number, argv, main_exit, pipe, settings, cwd, pixels, usage):
                return  # the main FFmpeg ended: its own exit code tells why
    finally:
        pipe.close()
        main_exit.cancel()


async def _part(
    number: int,
    argv: Sequence[str],
    main_exit: asyncio.Future[int],
    pipe: Pipe,
    settings: Settings,
    cwd: Path,
    pixels: int,
    usage: PartsUsage,
) -> bool:
    """Run one part to its end; False when the main FFmpeg ended first (the part is stopped)."""
    env = {"FFREPORT": f"file={PART_REPORT}:level=32"}
    command = (settings.ffmpeg_bin, *ffreport.BENCHMARK_ARGS, *argv)
    try:
        proc = await spawn(command, cwd, child_limits(settings, pixels), env, stdout=pipe.fd)
    except OSError as exc:
        raise ProcessingFailed(f"ffmpeg could not be started: {exc.strerror}") from None
    tail = Tail(STDERR_TAIL_BYTES)
    peak = [0.0]
    helpers = [asyncio.ensure_future(tail.drain(proc.stderr)),
               asyncio.ensure_future(ffreport.watch_peak(proc, peak))]  # fmt: skip
    part_exit = asyncio.ensure_future(leader_exit(proc))
    try:
        await asyncio.wait({part_exit, main_exit}, return_when=asyncio.FIRST_COMPLETED)
        if not part_exit.done():  # the main FFmpeg ended first
            await stop_shielded(proc, settings.kill_grace)
            return False
        await asyncio.gather(*helpers)
    except BaseException:
        await stop_shielded(proc, settings.kill_grace)
        raise
    finally:
        for task in (part_exit, *helpers):
            task.cancel()
    usage.peak_mb = max(usage.peak_mb, peak[0])
    report = ffreport.collect(cwd, PART_REPORT)
    usage.cpu_s += report.cpu_s if report else 0.0
    if part_exit.result() != 0:
        text = tail.data.decode("utf-8", "replace").replace(str(cwd), ".").strip().splitlines()
        reason = text[-1] if text else f"exit code {part_exit.result()}"
        raise ProcessingFailed(
            f"ffmpeg failed making part {number} of the pictures: {reason}"[:1000],
            details={"exit_code": part_exit.result(), "part": number},
        )
    return True
