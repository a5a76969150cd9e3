"""The composition handler: admit a posted composition; run one to a stored output.

    parse → prepare (stage, probe, compile) → cache lookup: a hit completes from the earlier
    output; a miss encodes (one FFmpeg pass) → store output + thumbnail → finish (fenced)

All of it in one scratch directory per job.

Outputs are stored under keys fenced by the attempt's lease token, and recorded in the row
before anything is stored, so a later attempt knows what to clean up (docs/reliability.md C3, C5).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from vidsvc import spec
from vidsvc.callbacks.links import Links
from vidsvc.config import Settings
from vidsvc.errors import CompositionNotFound, StorageError
from vidsvc.graph import formats
from vidsvc.jobs import Job, JobKind, JobState, Stage, new_job_id
from vidsvc.media import cpu
from vidsvc.media.ffmpeg import ffmpeg_version
from vidsvc.media.workspace import workspace
from vidsvc.runner.lifecycle import Deps, JobIds, Queue, retrying, terminal
from vidsvc.runner.metrics import record_job_metrics
from vidsvc.runner.reporter import Reporter
from vidsvc.runner.usage import Usage, number
from vidsvc.schema import parse_composition
from vidsvc.store.callback_events import CallbackEvent
from vidsvc.work.compositions import cache, dryrun, outputs, webhook
from vidsvc.work.compositions.checks import check
from vidsvc.work.compositions.estimate import Estimator
from vidsvc.work.compositions.metrics import CompositionMetrics
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.outputs import Keys
from vidsvc.work.compositions.parts import fanout
from vidsvc.work.compositions.prepared import Encoded, Prepared
from vidsvc.work.compositions.render import encode, prepare

log = logging.getLogger(__name__)


async def _outcome(
    deps: Deps, job: Job, timings: Mapping[str, float], prepared: Prepared, **rest: Any
) -> CompositionOutcome:
    """What every completion records, a render's or a cache hit's, and `rest`."""
    waited = (job.started_at - job.created_at).total_seconds() if job.started_at else 0.0
    return CompositionOutcome(
        timings={"queued": round(waited, 3), **timings},
        ffmpeg_version=await ffmpeg_version(deps.settings),
        instance=deps.instance_id,
        attempt=job.attempts,
        inputs={url: info.summary() for url, info in prepared.inputs.items()},
        **rest,
    )


def _admitted(document: Mapping[str, Any], settings: Settings) -> spec.Composition:
    comp = parse_composition(document)
    check(comp, settings)
    webhook.check_static(document, settings)
    return comp


async def _admitted_async(document: Mapping[str, Any], settings: Settings) -> spec.Composition:
    """What POST refuses, the callback host's DNS answers included."""
    comp = await cpu.run(_admitted, document, settings)  # a 1 MB body: 0.4 s of marshmallow
    await webhook.check_resolves(document, settings)
    return comp


async def _render_and_store(
    job: Job, deps: Deps, report: Reporter, comp: spec.Composition, keys: tuple[Keys, ...]
) -> Job | None:
    started = time.monotonic()
    async with workspace(deps.settings, job.id) as work:  # the job's one scratch directory
        prepared = await prepare(comp, deps.settings, work, report, load=deps.load)
        prepared_at = time.monotonic()
        found = await cache.lookup(job, comp, prepared, deps.settings, deps.stores, keys=keys)
        if isinstance(found, cache.Hit):
            timings = {
                "preparing": round(prepared_at - started, 3),
                "cache": round(time.monotonic() - prepared_at, 3),
            }
            return await _served(job, deps, report, found, prepared, timings, keys)
        live = await fanout.wanted(job, prepared, deps)
        if live and (handed := await fanout.split_off(job, prepared, work, deps, live, found.key)):
            return handed  # processing, waiting on its parts (work/compositions/parts/)
        encoded = await encode(prepared, deps.settings, work, report, load=deps.load)
        found = await cache.as_encoded(found, comp, prepared, encoded.argv, deps.settings)
        await _store(deps, report, comp.output, encoded, keys)
        output = await outputs.described(encoded, comp.output, deps.settings)
    timings = report.finish()
    outcome = await _outcome(
        deps,
        job,
        timings,
        prepared,
        output=output,
        command=["ffmpeg", *encoded.argv],
        sharing=round(encoded.sharing, 2),
        usage=Usage.of(encoded.runs),
        memory=prepared.memory_summary(),
        smart_render=dict(encoded.smart),
        sound=dict(prepared.notes) or None,
        text=dict(prepared.text) or None,
        captions=dict(prepared.captions) or None,
        cache=found.summary,
        preview=prepared.preview,
        outputs=outputs.recorded(comp.output, keys, number(output.get("duration"))),
    )
    await report.flush()
    done = await _complete(job, deps, keys[0], outcome, found.key)
    await record_job_metrics(deps.stores, job, encoded.runs, timings=timings)
    return done


async def _store(
    deps: Deps, report: Reporter, output: spec.Output, encoded: Encoded, keys: tuple[Keys, ...]
) -> None:
    """Every rendition's video and thumbnail at this attempt's keys."""
    blobs, kind = deps.stores.blobs, formats.format_of(output.format).mime_type
    for index, (made, pair) in enumerate(zip(encoded.renditions, keys, strict=True)):
        thumb = outputs.THUMBNAIL_TYPE
        files = ((pair.video, made.video, kind), (pair.thumbnail, made.thumbnail, thumb))
        for key, path, content in files:
            await retrying(functools.partial(blobs.put_file, key, path, content_type=content))
        report(Stage.UPLOADING, (index + 1) / len(keys), f"stored rendition {index + 1}")


async def _served(
    job: Job,
    deps: Deps,
    report: Reporter,
    hit: cache.Hit,
    prepared: Prepared,
    timings: Mapping[str, float],
    keys: tuple[Keys, ...],
) -> Job | None:
    """A render cache hit: the earlier output, already copied to this job's keys, completes it
    (fenced like any completion). What describes the output comes from the earlier job."""
    # Only now: a miss goes on to encode, and progress never goes back from "uploading".
    report(Stage.UPLOADING, 1.0, f"render cache hit: reused the output of {hit.source.id}")
    await report.flush()
    source = CompositionOutcome.from_dict(hit.source.metadata)
    outcome = await _outcome(
        deps,
        job,
        timings,
        prepared,
        output=source.output,
        command=source.command,  # what made these bytes
        usage=Usage(render_seconds=0.0, cpu_seconds=0.0),
        captions=dict(prepared.captions) or None,  # read for this job, as a miss records
        cache=hit.summary,
        preview=prepared.preview,
        outputs=outputs.recorded(prepared.output, keys, source.output_duration),
    )
    return await _complete(job, deps, keys[0], outcome, hit.key)


async def _complete(
    job: Job,
    deps: Deps,
    first: Keys,
    outcome: CompositionOutcome,
    cache_key: str | None,
) -> Job | None:
    """The fenced COMPLETED write, a render's or a cache hit's: its first rendition at
    `first` (every one's in the outcome's `outputs`)."""
    return await terminal(
        lambda: deps.stores.jobs.finish(
            job.id,
            job.token,
            JobState.COMPLETED,
            output_key=first.video,
            thumbnail_key=first.thumbnail,
            metadata=outcome.to_dict(),
            cache_key=cache_key,
        )
    )


async def _drop_stale_outputs(
    deps: Deps, done: Job | None, staged: list[str], ours: tuple[str, ...]
) -> None:
    """One output per job (docs/reliability.md C3, C5): a fenced attempt (done is None: the
    lease went to another worker) removes what it stored; the winner removes what dead attempts
    stored between their upload and their commit. Best effort: a leftover costs space, not
    safety."""
    doomed = ours if done is None else [k for k in staged if k not in ours]
    for key in doomed:
        try:
            await deps.stores.blobs.delete(key)
        except (StorageError, OSError):
            log.warning("could not delete a stale output", extra={"key": key})


class Compositions:
    """The Handler of JobKind.COMPOSITION."""

    ids = JobIds(
        pattern=re.compile(r"[A-Za-z0-9_]{6,64}"),  # ours are comp_ + hex
        not_found=lambda job_id: CompositionNotFound(
            f"composition {job_id[:80]!r} does not exist"
        ),
    )

    def __init__(self) -> None:
        self.estimator = Estimator()  #: learns this machine's throughput from what it renders
        self.metrics = CompositionMetrics()
        self.registry = self.metrics.registry  #: rendered by GET /metrics
        self.dry_runs = dryrun.Turns()  #: at most MAX_CONCURRENT_JOBS dry runs at once

    async def estimate(self, job: Job, queue: Queue) -> float:
        comp = await cpu.run(parse_composition, job.payload)
        return self._estimate(comp, queue)

    def _estimate(self, comp: spec.Composition, queue: Queue) -> float:
        return self.estimator.estimate(
            comp, ahead=queue.ahead, running=queue.running, slots=queue.slots
        )

    async def dry_run(
        self, document: Mapping[str, Any], settings: Settings, queue: Queue
    ) -> dict[str, Any]:
        """What a POST of `document` and its render would meet before encoding: the plan
        (dryrun.plan_json, with the estimate that POST would answer), or the job's error."""
        comp = await _admitted_async(document, settings)  # POST's refusals, as POST
        async with self.dry_runs.turn(settings.max_concurrent_jobs):
            done = await dryrun.rehearse(comp, settings)
        return dryrun.plan_json(done, self._estimate(comp, queue))

    async def admit(self, document: Mapping[str, Any], settings: Settings) -> Job:
        comp = await _admitted_async(document, settings)
        return Job.queued(
            id=new_job_id(),
            kind=JobKind.COMPOSITION,
            payload=document,
            user_id=comp.user_id,
            max_attempts=settings.max_attempts,
        )

    async def run(self, job: Job, deps: Deps, report: Reporter) -> Job | None:
        comp = await cpu.run(parse_composition, job.payload)
        keys = outputs.keys(job, comp.output)
        ours = tuple(key for pair in keys for key in (pair.video, pair.thumbnail))
        # Recorded before anything is stored, so a later attempt knows what to clean up (C5)
        staged = [*job.metadata.get("staged_outputs", ()), *ours]
        await retrying(lambda: deps.stores.jobs.annotate(job.id, {"staged_outputs": staged}))
        await fanout.forget(job, deps)  # an earlier attempt's split, if any: this one is whole
        done = await _render_and_store(job, deps, report, comp, keys)
        await _drop_stale_outputs(deps, done, staged, ours)
        return done

    async def finished(self, job: Job, deps: Deps) -> None:
        """What this instance learns from a composition it finished. One handed off to its
        parts gets its long lease now, past the pool's last heartbeat (fanout.hold)."""
        if not job.state.terminal:
            if fanout.waiting(job):
                await fanout.hold(job, deps)
            return
        learns = job.state is JobState.COMPLETED and job.kind is JobKind.COMPOSITION
        comp = await cpu.run(parse_composition, job.payload) if learns else None
        self.estimator.observe(job, comp)
        self.metrics.observe(job)

    async def end_waiting(self, job: Job, deps: Deps) -> Job | None:
        """A cancel of a split render waiting on its parts: they are cancelled, it ends."""
        if not fanout.waiting(job):
            return None
        return await fanout.end(job, deps, JobState.CANCELLED)

    def callback_url(self, job: Job) -> str | None:
        """The webhook's URL (callbacks.links.CallingBack): an event is stored with the job."""
        return webhook.callback_url(job.payload)

    async def callback_body(self, job: Job, event: CallbackEvent, links: Links) -> dict[str, Any]:
        return await webhook.body(job, event, links)

    async def close(self, timeout: float) -> None:
        return None  # webhooks are the outbox's (runner), which stops on its own
