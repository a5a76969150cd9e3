"""The join of a split render, on whichever instance claimed its row: every part's files as
its row recorded them (never a key a zombie may have written since), each rendition's joined
by packet index with the sound muxed in (work/compositions/split_join.py, which checks the
frame count, the one set of parameter sets and the timestamps), stored at the parent's keys
and the parent
completed by its own fenced write. Parts that do not join (missing, unreadable, short, other
parameter sets) are rendered again here, once; a join that fails again falls the parent back
to one pass (handler.py). The parts' files are deleted either way once the parent has ended.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vidsvc import spec
from vidsvc.errors import ProcessingFailed
from vidsvc.graph import formats, splice, split_pieces
from vidsvc.graph import split as parts
from vidsvc.graph.compile import Encoding, output_name
from vidsvc.inputs import staging
from vidsvc.jobs import Job, JobState, Stage
from vidsvc.media.ffmpeg import FFmpegRun, ffmpeg_version
from vidsvc.media.probe import probe
from vidsvc.media.threads import threads_for_job
from vidsvc.media.workspace import workspace
from vidsvc.runner.lifecycle import Deps, publish, retrying, terminal
from vidsvc.runner.metrics import record_job_metrics
from vidsvc.runner.reporter import Reporter
from vidsvc.runner.usage import Usage, number
from vidsvc.work.compositions import outputs
from vidsvc.work.compositions.checks import url_fields
from vidsvc.work.compositions.facts import encoding
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.parts.facts import instance_facts
from vidsvc.work.compositions.parts.fanout import NOTE
from vidsvc.work.compositions.parts.keeper import keeping
from vidsvc.work.compositions.parts.orders import SOUND, VIDEO, Order, drop
from vidsvc.work.compositions.parts.work import parent_of, run_part
from vidsvc.work.compositions.split import prepare_split
from vidsvc.work.compositions.split_join import SOUND_ONLY, BadParts, join

log = logging.getLogger(__name__)
COPIES_DIR = "copies"


async def done_parts(order: Order, deps: Deps) -> list[Job]:
    """The split's rows, each completed with its file recorded; ProcessingFailed otherwise."""
    jobs = deps.stores.jobs
    rows = [await retrying(lambda: jobs.get(row)) for row in order.siblings]  # noqa: B023
    for row_id, row in zip(order.siblings, rows, strict=True):
        if row is None or row.state is not JobState.COMPLETED or not row.output_key:
            raise ProcessingFailed(f"part {row_id} has no recorded output")
    return [row for row in rows if row is not None]


async def run_join(job: Job, order: Order, deps: Deps, report: Reporter) -> Job | None:
    parent, comp = await parent_of(order, deps)
    rows = await done_parts(order, deps)
    stored = outputs.keys(parent, comp.output)  #: one pair per rendition
    split, settings, started = order.plan_split, deps.settings, time.monotonic()
    redone: list[int] = []  #: parts the join rendered again (SOUND_ONLY: the sound)
    async with keeping(order, deps), workspace(settings, job.id) as work:
        report(Stage.ENCODING, 0.0, "fetching the parts")
        enc = encoding(comp, settings, order.duration_ms, 0)
        await _fetch_parts(rows, split, enc, work, deps, len(stored))
        copies = await _stage_copies(split, comp, work, deps)
        report(Stage.ENCODING, 0.5, f"joining {len(split.parts)} parts")
        try:
            runs = await join(split, enc, settings, work, copies, len(stored))
        except BadParts as bad:  # rendered again here, once; a second failure falls back
            log.warning(bad.message, extra={"job_id": order.parent})
            again = await render_again(bad.parts, comp, order, work, deps, report)
            runs = [*again, *await join(split, enc, settings, work, copies, len(stored))]
            redone.extend(bad.parts)
        output = (await probe(work / enc.video_out, settings, field="output")).summary()
        report(Stage.UPLOADING, 0.0, "storing the output")
        await _store(stored, enc, work, deps)
    joined = round(time.monotonic() - started, 3)
    command = ["ffmpeg", *splice.join_command(enc)]
    metadata = await _outcome(parent, comp, split, rows, runs, output, stored, joined, command,
                              deps)  # fmt: skip
    metadata["cache"] = {"hit": False, "key": order.cache_key} if order.cache_key else {}
    jobs = deps.stores.jobs
    first = stored[0]  # the row's own keys are the first rendition's, as for one render
    final = await terminal(lambda: jobs.finish(
        order.parent, order.parent_token, JobState.COMPLETED, output_key=first.video,
        thumbnail_key=first.thumbnail, metadata=metadata, cache_key=order.cache_key,
    ))  # fmt: skip
    await publish(deps, final)
    if final is not None:
        await record_job_metrics(deps.stores, final, runs, timings={"joining": joined})
    await drop(deps, (key for row in rows for key in _files(row).values()))
    if final is None:  # the parent moved on meanwhile (cancelled, requeued): ours is nobody's
        await drop(deps, (key for pair in stored for key in (pair.video, pair.thumbnail)))
    state = JobState.COMPLETED if final is not None else JobState.CANCELLED
    note = {"instance": deps.instance_id, "seconds": joined, "rendered_again": redone,
            **Usage.of(runs).to_dict()}  # fmt: skip
    if final is not None:
        note["instances_used"] = metadata[NOTE]["instances_used"]
    return await terminal(lambda: jobs.finish(job.id, job.token, state, metadata=note))


async def _store(stored: Sequence[outputs.Keys], enc: Encoding, work: Path, deps: Deps) -> None:
    """Each rendition's joined video and thumbnail at the composition's own keys."""
    for n, keys in enumerate(stored):
        for key, name, kind in (
            (keys.video, output_name(enc.video_out, n), formats.format_of("mp4").mime_type),
            (keys.thumbnail, output_name(enc.thumb_out, n), outputs.THUMBNAIL_TYPE),
        ):
            await retrying(
                functools.partial(deps.stores.blobs.put_file, key, work / name, content_type=kind)
            )


async def _stage_copies(
    split: parts.Split, comp: spec.Composition, work: Path, deps: Deps
) -> dict[str, Path]:
    """The sources smart rendering copies GOPs from, fetched as a render fetches its clips
    (the same URL policy and caps), in a folder of their own: a part rendered again here
    stages every input in `work` under the same names."""
    urls = list(split_pieces.copy_names(split))
    if not urls:
        return {}
    (work / COPIES_DIR).mkdir()
    return await staging.stage(urls, work / COPIES_DIR, deps.settings, fields=url_fields(comp))


def _files(row: Job, main: str = "", thumb: str = "") -> dict[str, str]:
    """A part row's files as its fenced completion recorded them: workspace name → key (a row
    completed before they were listed: its two columns, as `main` and `thumb`)."""
    files = row.metadata.get("files")
    if isinstance(files, Mapping):
        return {str(name): str(key) for name, key in files.items()}
    return {name: key for name, key in ((main, row.output_key), (thumb, row.thumbnail_key)) if key}


async def _fetch_parts(
    rows: list[Job], split: parts.Split, enc: Encoding, work: Path, deps: Deps, renditions: int
) -> None:
    """Every part's recorded files (each rendition's) and the recorded thumbnails, under the
    join's names, all at once (from S3 one download at a time would put K round trips on the
    serial tail)."""
    wanted: list[tuple[str | None, Path]] = []
    for part, row in zip(split.parts, rows, strict=False):  # the sound's row is the last
        files = _files(row, parts.part_file(part.index), parts.thumb_file(part.index))
        for n in range(renditions):
            name = parts.part_file(part.index, n)
            wanted.append((files.get(name), work / name))
            if thumb := files.get(parts.thumb_file(part.index, n)):
                wanted.append((thumb, work / output_name(enc.thumb_out, n)))
    wanted.append(
        (_files(rows[-1], splice.AUDIO_OUT).get(splice.AUDIO_OUT), work / splice.AUDIO_OUT)
    )
    await asyncio.gather(*(_fetch(key, dest, deps) for key, dest in wanted))


async def _fetch(key: str | None, dest: Path, deps: Deps) -> None:
    """A part's recorded file; one that is gone is left out (the join renders it again)."""
    try:
        if key is not None:
            await retrying(functools.partial(deps.stores.blobs.get_file, key, dest))
    except KeyError:
        log.warning("a part's stored file is missing", extra={"key": key})


async def render_again(
    bad: tuple[int, ...], comp: spec.Composition, order: Order, work: Path, deps: Deps,
    report: Reporter,
) -> list[FFmpegRun]:  # fmt: skip
    """The parts `bad` rendered here, into the join's own workspace, as their rows would have:
    the split planned from the composition, its hash checked, each part's own command."""
    report(Stage.ENCODING, 0.5, f"rendering part(s) {list(bad)} again")
    settings = deps.settings
    made = await prepare_split(
        comp, settings, work, order.sizing, threads=threads_for_job(settings, deps.load)
    )
    if made.split.digest(await instance_facts(settings)) != order.plan:
        raise ProcessingFailed("the joining instance plans the split differently")
    runs: list[FFmpegRun] = []
    for index in bad:
        role = order.as_role(SOUND) if index == SOUND_ONLY else order.as_role(VIDEO, index)
        runs += (await run_part(role, made, deps, work, report))[0]
    return runs


async def _outcome(
    parent: Job,
    comp: spec.Composition,
    split: parts.Split,
    rows: list[Job],
    runs: list[FFmpegRun],
    output: Mapping[str, Any],
    stored: Sequence[outputs.Keys],
    joined: float,
    command: list[str],
    deps: Deps,
) -> dict[str, Any]:
    """The parent's metadata: what a one-pass render records, the usage summed over the
    parts, and its `split`: where each part ran and how long it took."""
    own = Usage.of(runs)
    cpu = [number(row.metadata.get("cpu_seconds")) for row in rows] + [own.cpu_seconds]
    total_cpu = sum(c for c in cpu if c is not None) if None not in cpu else None
    wall = (parent.started_at and (time.time() - parent.started_at.timestamp())) or 0.0
    usage = Usage(
        render_seconds=round(wall, 3),
        cpu_seconds=total_cpu,
        output_seconds=number(output.get("duration")),
    )
    outcome = CompositionOutcome(
        timings={
            "queued": round((parent.started_at - parent.created_at).total_seconds(), 3)
            if parent.started_at
            else 0.0,
            "joining": joined,
        },
        ffmpeg_version=await ffmpeg_version(deps.settings),
        instance=deps.instance_id,
        attempt=parent.attempts,
        output=output,
        command=command,  # what made the bytes from the parts
        usage=usage,
        inputs=parent.metadata.get("inputs") or {},
        sound=parent.metadata.get("sound"),
        text=parent.metadata.get("text"),
        captions=parent.metadata.get("captions"),
        outputs=outputs.recorded(comp.output, stored, number(output.get("duration"))),
        smart_render=_smart(split),
    )
    note = _history(parent, rows, joined)
    return {**outcome.to_dict(), NOTE: note}


def _smart(split: parts.Split) -> dict[str, Any] | None:
    """Smart rendering's plan, as a one-machine smart render records it; None: no copies."""
    if not split.copies:
        return None
    plan = split_pieces.whole(split)
    return {"applied": True, "reason": "render-ready clips; the encode spans split into parts",
            **plan.summary()}  # fmt: skip


def _history(parent: Job, rows: list[Job], joined: float) -> dict[str, Any]:
    """The parent's `split` note, with where each part ran, how long, on which attempt."""
    note = dict(parent.metadata.get(NOTE) or {})
    note["parts_run"] = [
        {
            "row": row.id,
            "instance": row.metadata.get("instance"),
            "seconds": row.metadata.get("seconds"),
            "render_seconds": row.metadata.get("render_seconds"),  # its FFmpeg's share of those
            "frames": row.metadata.get("frames"),  # encoded (None: the sound)
            "attempts": row.attempts,
        }
        for row in rows
    ]
    note["instances_used"] = len({row.metadata.get("instance") for row in rows})
    note["join_seconds"] = joined
    return note
