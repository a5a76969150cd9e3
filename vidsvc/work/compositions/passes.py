"""The FFmpeg runs of one compiled render: by parts, the sound pass first (graph/parts.py);
then the main FFmpeg with its parts feeding its pipe (media/feed.py), holding its memory in the
instance's gate (media/memory_gate.py) and, with NVENC, one of the card's sessions; then a GIF's
palette and frames. Which command runs: a smart render's windows and join, falling back to one
pass (`smart`), or one pass, with libx264 when NVENC gives up (`one_pass`)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from vidsvc import graph
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.graph.memory import Estimate
from vidsvc.media import gpu
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.load import Load
from vidsvc.media.progress import FFmpegProgress
from vidsvc.media.workspace import write_files
from vidsvc.work.compositions import smart as splicing  # `smart` is this module's own name
from vidsvc.work.compositions.prepared import Prepared

log = logging.getLogger(__name__)


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


RunCommand = Callable[[graph.Command], Awaitable[list[FFmpegRun]]]


async def smart(
    prepared: Prepared, settings: Settings, work: Path, run: RunCommand
) -> tuple[splicing.Decision, graph.Command, list[FFmpegRun]]:
    """The smart render's windows and join; no runs when there is no plan or it failed (then
    the decision says why, and the command is the one pass's)."""
    decision, command = prepared.decision, prepared.command
    if decision.plan is None:
        return decision, command, []
    try:
        runs = await run(command)
        runs += await splicing.join(decision, prepared.staged, prepared.encoding, settings, work)
    except ProcessingFailed as exc:  # never a wrong video nor a lost job: one pass instead
        if "timeout" in exc.details:
            raise
        log.error("smart render failed (%s); rendering in one pass", exc.message)
        command = prepared.one_pass()
        write_files(work, command.files)  # graph.txt, if the graph is long, is its own
        return splicing.one_pass(f"the smart render failed: {exc.message}"), command, []
    return decision, command, runs


async def one_pass(
    prepared: Prepared, command: graph.Command, run: RunCommand
) -> tuple[graph.Command, list[FFmpegRun]]:
    """One FFmpeg pass; with libx264 when NVENC gave up on this render."""
    try:
        return command, await run(command)
    except ProcessingFailed as exc:
        if prepared.encoding.encoder != gpu.NVENC or not gpu.gave_up(exc):
            raise
        log.warning("NVENC gave up (%s); encoding with libx264", exc.message)
        command = prepared.on_cpu()
        return command, await run(command)
