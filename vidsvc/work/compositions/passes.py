"""The FFmpeg runs of one compiled render: by parts, the sound pass first (graph/parts.py);
then the main FFmpeg with its parts feeding its pipe (media/feed.py), holding its memory in the
instance's gate (media/memory_gate.py) and, with NVENC, one of the card's sessions."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from vidsvc import graph
from vidsvc.config import Settings
from vidsvc.graph.memory import Estimate
from vidsvc.media import gpu
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.load import Load
from vidsvc.media.progress import FFmpegProgress


async def run(
    command: graph.Command,
    needs: Estimate | None,
    settings: Settings,
    work: Path,
    load: Load,
    on_progress: Callable[[FFmpegProgress], None],
    *,
    pixels: int,
) -> list[FFmpegRun]:
    """The command's runs, its main FFmpeg first (by parts, with the sound pass's time and CPU
    in it: one run per output, as the metrics and the estimator count them)."""
    sound = None
    if command.sound:
        sound = await run_ffmpeg(command.sound, settings=settings, cwd=work, load=load)
    async with (
        gpu.session(command.argv, settings),  # an NVENC run holds one of its sessions
        _reserved(load, needs),  # and its memory, where the service has a budget
    ):
        main = await run_ffmpeg(
            command.argv,
            settings=settings,
            cwd=work,
            on_progress=on_progress,
            load=load,
            pixels=pixels,
            parts=command.feeds,
            pipe=command.feed,
        )
    for argv in command.after:  # a GIF's palette and frames: the same output's, one run
        main = _with(main, await run_ffmpeg(argv, settings=settings, cwd=work, load=load))
    return [main if sound is None else _with(main, sound)]


def _with(main: FFmpegRun, before: FFmpegRun) -> FFmpegRun:
    """`main` with a run that ended before it started (or began after it ended): its seconds
    and CPU added, the larger peak (they never ran side by side)."""
    cpu = None if main.cpu_s is None or before.cpu_s is None else main.cpu_s + before.cpu_s
    peaks = [p for p in (main.memory_peak_mb, before.memory_peak_mb) if p is not None]
    return dataclasses.replace(
        main,
        elapsed_s=main.elapsed_s + before.elapsed_s,
        cpu_s=cpu,
        memory_peak_mb=max(peaks) if peaks else None,
    )


@contextlib.asynccontextmanager
async def _reserved(load: Load, needs: Estimate | None) -> AsyncIterator[None]:
    if load.memory is None or needs is None:
        yield
        return
    async with load.memory.reserve(needs.rss_mb):
        yield
