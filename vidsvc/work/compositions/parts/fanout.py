"""The parent's side of a split render: whether to split, the rows it inserts, the hand-off,
and ending a split early (a cancel; a fall back to one pass).

A composition splits on its first try only (`wanted`): one whose earlier attempt split and did
not finish (a part failed, the join failed, its wait lease ran out, its instance stopped)
renders in one pass, after the earlier attempt's rows are cancelled (`forget`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import StorageError
from vidsvc.graph import split as parts
from vidsvc.jobs import Job, JobState, Progress, Stage, utcnow
from vidsvc.media.children import cores
from vidsvc.media.threads import threads_for_job
from vidsvc.runner.leases import announce
from vidsvc.runner.lifecycle import Deps, publish, retrying, terminal
from vidsvc.store.base import Lane
from vidsvc.work.compositions.parts import flight
from vidsvc.work.compositions.parts.facts import instance_facts
from vidsvc.work.compositions.parts.orders import VIDEO, Order, drop, ids
from vidsvc.work.compositions.prepared import Prepared
from vidsvc.work.compositions.split import PLAN_ONLY, prepare_split

log = logging.getLogger(__name__)
NOTE = "split"  #: the parent's metadata key: its split's plan, token and rows


def split_note(job: Job) -> Mapping[str, Any] | None:
    note = job.metadata.get(NOTE)
    return note if isinstance(note, Mapping) else None


def waiting(job: Job) -> bool:
    """The job is a split parent waiting on its parts (no worker holds it)."""
    note = split_note(job)
    return job.state is JobState.PROCESSING and note is not None and note["token"] == job.token


async def wanted(job: Job, prepared: Prepared, deps: Deps) -> int:
    """How many instances to spread `job` over: 0 for one pass here. Splits only a whole mp4
    (docs/rendering.md#split-renders) whose encode work is long enough (with
    smart rendering, the frames it does not copy), on its first try, when enough instances
    are live."""
    settings, out = deps.settings, prepared.output
    whole_mp4 = out.format == "mp4" and out.range is None  # renditions too: a file of each
    if not settings.split_renders or not whole_mp4 or split_note(job) is not None:
        return 0
    smart = prepared.decision.plan
    work_ms = smart.encoded_frames * 1000 / smart.fps if smart else prepared.encoding.duration_ms
    if work_ms < settings.split_min_seconds * 1000:
        return 0
    try:
        live = await announce(deps)
    except StorageError:  # Redis away: nobody to share with that we know of
        return 0
    return live if live >= settings.split_min_instances else 0


def sizing(settings: Settings, live: int) -> parts.Sizing:
    """The parts to ask for with `live` instances: each runs as many parts at once as it has
    slots and cores (more would share the cores, not add to them), every instance assumed
    alike (one image and one set of settings, scaled out)."""
    per_instance = max(1, min(settings.max_concurrent_jobs, cores()))
    return parts.Sizing(chunk_ms=round(settings.chunk_seconds * 1000),
                        max_parts=settings.split_max_parts, slots=live * per_instance)  # fmt: skip


async def split_off(
    job: Job, prepared: Prepared, work: Path, deps: Deps, live: int, cache_key: str | None
) -> Job | None:
    """Plan `job` as parts (`sizing`), insert their rows and hand the job off:
    its row stays processing under its lease token, which now lasts JOB_TIMEOUT and is
    renewed by its parts. None when the plan has one part (then: one pass)."""
    settings, comp = deps.settings, prepared.planned.comp if prepared.planned else None
    assert comp is not None  # render.prepare keeps what it planned
    asks = sizing(settings, live)
    threads = threads_for_job(settings, deps.load)
    made = await prepare_split(comp, settings, work, asks, threads=threads,
                               plan=prepared.planned, only=PLAN_ONLY)  # fmt: skip
    if len(made.split.parts) < 2:
        return None
    facts = await instance_facts(settings)
    rows = ids(job, len(made.split.parts))
    order = Order(
        parent=job.id, parent_token=job.token, role=VIDEO, index=0,
        plan=made.split.digest(facts), facts=facts, split=made.split.to_dict(),
        duration_ms=made.encoding.duration_ms, chunk_ms=asks.chunk_ms,
        max_parts=asks.max_parts, slots=asks.slots, in_flight=settings.split_parts_in_flight,
        siblings=rows, cache_key=cache_key,
    )  # fmt: skip
    note = {"plan": order.plan, "token": job.token, "parts": len(rows) - 1, "rows": list(rows),
            "instances": live, "slots": asks.slots, "in_flight": order.in_flight,
            "attempt": job.attempts,
            "instance": deps.instance_id, "prepare_seconds": _since(job.started_at)}  # fmt: skip
    inputs = {url: info.summary() for url, info in prepared.inputs.items()}
    # what the completion records from the preparation, which the join does not repeat
    found = {"inputs": inputs, "sound": dict(prepared.notes) or None,
             "text": dict(prepared.text) or None,
             "captions": dict(prepared.captions) or None}  # fmt: skip
    # recorded before any row: whatever happens next, a later attempt knows this one split
    await retrying(lambda: deps.stores.jobs.annotate(job.id, {NOTE: note, **found}))
    # the sound, claimed here; the parts, queued. No row of this attempt exists yet
    await flight.top_up(order, deps, job, [None] * len(rows))
    await hold(job, deps)
    message = f"split into {len(rows) - 1} parts for {live} instances"
    progress = Progress(
        stage=Stage.ENCODING, percentage=Stage.ENCODING.percentage(0), message=message
    )
    await publish(deps, await deps.stores.jobs.record_progress(job.id, job.token, progress))
    log.info(message, extra={"job_id": job.id})
    return await deps.stores.jobs.get(job.id)


def _since(moment: datetime | None) -> float:
    return round((utcnow() - moment).total_seconds(), 3) if moment else 0.0


async def hold(job: Job, deps: Deps) -> bool:
    """The waiting parent's lease: JOB_TIMEOUT from now (its parts renew it as they go)."""
    return await deps.stores.jobs.renew(job.id, job.token, deps.settings.job_timeout)


async def forget(job: Job, deps: Deps) -> None:
    """An earlier attempt's split, given up: its rows cancelled (one rendering elsewhere
    stops at its next heartbeat; its output is never joined) and the files the finished ones
    recorded deleted (best effort: a leftover costs space, not safety)."""
    note = split_note(job)
    for row in note["rows"] if note else ():
        try:
            ended = await deps.stores.jobs.cancel(row)
            await deps.stores.backlog.discard(row)
        except StorageError:  # a row left running notices its parent is gone (keeper.py)
            log.warning("could not cancel a part", extra={"job_id": row})
            continue
        if ended is not None:
            await drop(deps, (ended.output_key, ended.thumbnail_key))


async def end(job: Job, deps: Deps, state: JobState) -> Job | None:
    """End a waiting parent: it is `state` (CANCELLED: the client asked; QUEUED: back to the
    queue, to render in one pass), fenced by its lease token; then its parts are cancelled.
    In that order: a part that completes meanwhile either sees its parent gone (and deletes its
    own file: work.py) or is completed when `forget` reaches it (which deletes it)."""
    jobs = deps.stores.jobs
    if state is JobState.QUEUED:
        final = await terminal(lambda: jobs.requeue(job.id, job.token))
    else:
        final = await terminal(lambda: jobs.finish(job.id, job.token, state))
    await forget(job, deps)
    if final is not None and state is JobState.QUEUED:
        with contextlib.suppress(StorageError):
            await deps.stores.backlog.push(final.id, lane=Lane.AHEAD)
    await publish(deps, final)
    return final
