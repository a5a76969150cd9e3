"""One part of a split render, on whichever instance claimed its row: a video window of the
composition (no sound), or the whole timeline's mix.

The instance plans the split itself from the parent's composition and checks the plan hash
against the order's (same FFmpeg, fonts, encoding settings, inputs and timeline, so the parts'
bytes join); then renders its part, stores the file under a key holding its lease token, and
completes its row by a fenced write that records that key. Only then may the join be released
(fanin.py). An instance whose facts differ hands the row back untouched (`decline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed, StorageError
from vidsvc.graph import splice
from vidsvc.graph import split as parts
from vidsvc.jobs import Job, JobState, Stage
from vidsvc.media import cpu
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.fontdir import link_files
from vidsvc.media.progress import FFmpegProgress
from vidsvc.media.threads import threads_for_job
from vidsvc.media.workspace import workspace, write_files
from vidsvc.runner.leases import announce
from vidsvc.runner.lifecycle import Deps, retrying, terminal
from vidsvc.runner.reporter import Reporter
from vidsvc.runner.usage import Usage
from vidsvc.schema import parse_composition
from vidsvc.work.compositions import passes
from vidsvc.work.compositions.parts import fanin, flight
from vidsvc.work.compositions.parts.facts import differences, instance_facts
from vidsvc.work.compositions.parts.keeper import ParentGone, keeping, waiting_parent
from vidsvc.work.compositions.parts.orders import VIDEO, Order, blob_key, drop
from vidsvc.work.compositions.split import SplitJob, prepare_split
from vidsvc.work.compositions.split_join import SOUND_ONLY

MIN_PART_TIMEOUT_S = 60.0  #: the least a part's FFmpeg is given (or JOB_TIMEOUT, if less)
DECLINE_PAUSE_S = 1.0  #: before a declined row goes back: another instance may take it first
TYPES = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".jpg": "image/jpeg"}


async def parent_of(order: Order, deps: Deps) -> tuple[Job, spec.Composition]:
    """The parent still waiting for this order, and its composition; ParentGone otherwise."""
    parent = await waiting_parent(order, deps)
    if parent is None:
        raise ParentGone(f"composition {order.parent} no longer waits for this split")
    return parent, await cpu.run(parse_composition, parent.payload)


async def render(job: Job, order: Order, deps: Deps, report: Reporter) -> Job | None:
    _, comp = await parent_of(order, deps)
    ours = await instance_facts(deps.settings)
    if differing := differences(ours, dict(order.facts)):
        return await decline(job, deps, differing)
    started = time.monotonic()
    settings = deps.settings
    async with keeping(order, deps), workspace(settings, job.id) as work:
        only = order.index if order.role == VIDEO else SOUND_ONLY  # its own graph alone
        threads = threads_for_job(settings, deps.load)
        made = await prepare_split(comp, settings, work, order.sizing, threads=threads, only=only)
        if made.split.digest(ours) != order.plan:
            raise ProcessingFailed("this instance plans the split differently from the parent")
        runs, names = await run_part(order, made, deps, work, report)
        keys = await _store(job, order, names, work, deps)
    thumbnail = next((k for n, k in keys.items() if n.endswith(".jpg")), None)
    note = {
        "instance": deps.instance_id,
        "seconds": round(time.monotonic() - started, 3),
        **Usage.of(runs).to_dict(),
        "files": keys,  # every file's key (with renditions, more than the row's two columns)
    }
    if order.role == VIDEO:  # the frames its file holds (with smart rendering, fewer)
        note["frames"] = made.split.encoded(made.split.parts[order.index])
    jobs = deps.stores.jobs
    done = await terminal(
        lambda: jobs.finish(
            job.id,
            job.token,
            JobState.COMPLETED,
            output_key=keys[names[0]],
            thumbnail_key=thumbnail,
            metadata=note,
        )
    )
    if done is None:  # fenced out: the row went to another claim; these files are nobody's
        await drop(deps, keys.values())
        return None
    parent = await waiting_parent(order, deps)
    if parent is None:  # given up meanwhile (fanout.end): nobody's
        await drop(deps, keys.values())
        return done
    if order.in_flight:  # a capped split: the next part in this one's place
        await flight.top_up(order, deps, parent)
    await fanin.release(order, deps)
    return done


async def _store(
    job: Job, order: Order, names: list[str], work: Path, deps: Deps
) -> dict[str, str]:
    """The part's files stored under keys holding this claim's lease token; name -> key."""
    keys = {name: blob_key(order, name, job.token) for name in names}
    for name, key in keys.items():
        kind = TYPES[Path(name).suffix]
        await retrying(
            functools.partial(deps.stores.blobs.put_file, key, work / name, content_type=kind)
        )
    return keys


async def run_part(
    order: Order, made: SplitJob, deps: Deps, work: Path, report: Reporter
) -> tuple[list[FFmpegRun], list[str]]:
    """The part's FFmpeg runs and the files they wrote (its main file first)."""
    settings = timed(deps.settings, order)
    if order.role != VIDEO:
        report(Stage.ENCODING, 0.0, "mixing the sound")
        run = await run_ffmpeg(made.sound, settings=settings, cwd=work, load=deps.load)
        return [run], [splice.AUDIO_OUT]
    command = made.video[made.built.index(order.index)]
    part = made.split.parts[order.index]
    write_files(work, command.files)
    link_files(work, command.links)
    total_ms = made.split.encoded(part) * 1000 / made.split.fps  # its file's length

    def on_progress(p: FFmpegProgress) -> None:
        message = f"part {part.index}: {p.out_time_ms / 1000:.1f} of {total_ms / 1000:.1f} s"
        report(Stage.ENCODING, p.out_time_ms / total_ms, message, speed=p.speed)

    runs = await passes.run(command, None, settings, work, deps.load, on_progress,
                            pixels=made.pixels)  # fmt: skip
    shapes = range(made.renditions)  # a file of each rendition's shape, from one decode
    names = [parts.part_file(part.index, n) for n in shapes]
    if made.thumbnail == part.index:
        names += [parts.thumb_file(part.index, n) for n in shapes]
    return runs, names


def timed(settings: Settings, order: Order) -> Settings:
    """A part's FFmpeg gets JOB_TIMEOUT times its share of the frames to encode (the sound:
    the whole mix, its share 1), never under MIN_PART_TIMEOUT_S: a short part's fixed work is
    not its share's."""
    split = order.plan_split
    share = (
        split.encoded(split.parts[order.index]) / split.encoded_frames
        if order.role == VIDEO
        else 1.0
    )
    limit = max(settings.job_timeout * share, min(settings.job_timeout, MIN_PART_TIMEOUT_S))
    return dataclasses.replace(settings, job_timeout=limit)


def declines(job: Job, instance: str) -> dict[str, int]:
    """The row's declines by instance, this one's added (a list of names before: counted)."""
    found = job.metadata.get("declined") or {}
    counts = dict(Counter(found)) if isinstance(found, list) else dict(found)
    return counts | {instance: counts.get(instance, 0) + 1}


def exhausted(declined: Mapping[str, int], live: int) -> bool:
    """Every live instance has declined the row twice. Counted by instance: while the one
    instance that can render it is busy, another may take it and hand it back again and
    again, and that is not every instance refusing."""
    return len(declined) >= live and min(declined.values(), default=0) >= 2


async def decline(job: Job, deps: Deps, differing: list[str]) -> Job | None:
    """Hand the row back for an instance like the parent's; once every live instance has
    declined it twice, fail it (the parent then renders in one pass)."""
    declined = declines(job, deps.instance_id)
    try:
        live = await announce(deps)
    except StorageError:
        live = 1
    what = ", ".join(differing)
    if exhausted(declined, live):
        raise ProcessingFailed(f"no live instance can render this part: their {what} differ")
    await retrying(lambda: deps.stores.jobs.annotate(job.id, {"declined": declined}))
    await asyncio.sleep(DECLINE_PAUSE_S)
    back = await terminal(lambda: deps.stores.jobs.requeue(job.id, job.token))
    if back is not None:
        with contextlib.suppress(StorageError):
            await deps.stores.backlog.push(back.id)
    return back
