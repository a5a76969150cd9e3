"""execute(): one claimed job, from its claim to exactly one terminal state.

    parse → render (stage, probe, one FFmpeg pass) → store output + thumbnail → finish (fenced)

Every store write carries the claim's lease token, so a worker that lost its lease (it was
reaped, or the instance was presumed dead) can neither overwrite the result nor flip the
state (RELIABILITY.md INV-3). Terminal writes are shielded from cancellation. Cancellation means
"the client cancelled" or "the instance is stopping" (requeue), as the pool says in `Control`.

Imports the leaves, vidsvc.store and vidsvc.runner; never vidsvc.http.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed, StorageError, VidsvcError
from vidsvc.jobs import Job, JobError, JobEvent, JobKind, JobState
from vidsvc.runner import cache
from vidsvc.runner.ffmpeg import ffmpeg_version
from vidsvc.runner.metrics import record_job_metrics, usage_metadata
from vidsvc.runner.probe import MediaInfo, probe
from vidsvc.runner.progress_writer import ProgressWriter
from vidsvc.runner.render import RenderResult, render
from vidsvc.runner.workspace import workspace
from vidsvc.schema import parse_composition
from vidsvc.store import Stores

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 5


def channel(job_id: str) -> str:
    """The pub/sub channel carrying one job's events."""
    return f"vidsvc:job:{job_id}"


@dataclass(slots=True)
class Control:
    """What the pool tells a running job; `reason` is read when the job is cancelled."""

    reason: str = "shutdown"  #: "cancel" (client), "shutdown" (hand it back), "lost" (lease)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deps:
    settings: Settings
    stores: Stores
    instance_id: str


async def publish(deps: Deps, job: Job | None) -> None:
    """Best effort: the row is the truth, and watchers re-read it when pub/sub goes quiet."""
    if job is None:
        return
    try:
        await deps.stores.pubsub.publish(channel(job.id), JobEvent.of(job).to_json())
    except StorageError:
        log.warning("could not publish an event", extra={"composition_id": job.id})


def _info(m: MediaInfo) -> dict[str, Any]:
    return {
        "duration": m.duration_ms / 1000,
        "format": m.format_name,
        "video": m.video_codec,
        "audio": m.audio_codec,
        "width": m.width,
        "height": m.height,
        "fps": m.fps,
        "rotation": m.rotation,
        "streams": m.nb_streams,
    }


async def _metadata(deps: Deps, job: Job, result: RenderResult) -> dict[str, Any]:
    output = await probe(result.video, deps.settings, field="output")
    waited = (job.started_at - job.created_at).total_seconds() if job.started_at else 0.0
    return {
        "timings": {"queued": round(waited, 3), **result.timings},
        "inputs": {url: _info(info) for url, info in result.inputs.items()},
        "output": _info(output),
        "command": ["ffmpeg", *result.argv],
        "ffmpeg_version": await ffmpeg_version(deps.settings),
        "instance": deps.instance_id,
        "attempt": job.attempts,
        "sharing": round(result.sharing, 2),  # the estimator's input: see runner/estimate.py
        **usage_metadata([result.ffmpeg]),  # render_seconds, cpu_seconds, memory_peak_mb…
        **({"text": dict(result.text)} if result.text else {}),  # e.g. text.missing_glyphs
    }


async def _render_and_store(job: Job, deps: Deps, writer: ProgressWriter) -> Job | None:
    token = job.lease.token if job.lease else ""
    comp = parse_composition(job.payload)
    video_key, thumb_key = f"outputs/{job.id}/{token}.mp4", f"outputs/{job.id}/{token}.jpg"
    lookup = cache.Lookup(
        job, comp, deps.settings, deps.stores, keys=(video_key, thumb_key), on_stage=writer.update
    )
    async with workspace(deps.settings, f"{job.id}-out") as out:
        try:
            result = await render(
                comp,
                deps.settings,
                video_out=out / "video.mp4",
                thumbnail_out=out / "thumb.jpg",
                name=job.id,
                on_stage=writer.update,
                on_rate=writer.rate,
                before_run=lookup.before_run,
            )
        except cache.Hit as hit:
            return await _served(job, deps, writer, hit)
        blobs = deps.stores.blobs
        await retrying(lambda: blobs.put_file(video_key, result.video, content_type="video/mp4"))
        writer.update("uploading", 95.0, "stored the video")
        await retrying(
            lambda: blobs.put_file(thumb_key, result.thumbnail, content_type="image/jpeg")
        )
        metadata = await _metadata(deps, job, result)
    await writer.close()
    done = await terminal(
        lambda: deps.stores.jobs.finish(
            job.id,
            token,
            JobState.COMPLETED,
            output_key=video_key,
            thumbnail_key=thumb_key,
            metadata=metadata | {"cache": lookup.summary},
            cache_key=lookup.key,
        )
    )
    await _record_metrics(deps, job, result)
    return done


async def _served(job: Job, deps: Deps, writer: ProgressWriter, hit: cache.Hit) -> Job | None:
    """A render cache hit: the earlier output, already copied to this job's keys, completes it
    (fenced like any completion). What describes the output comes from the earlier job."""
    await writer.close()
    token = job.lease.token if job.lease else ""
    waited = (job.started_at - job.created_at).total_seconds() if job.started_at else 0.0
    metadata = {
        "timings": {"queued": round(waited, 3), **hit.timings},
        "inputs": {url: _info(info) for url, info in hit.prepared.inputs.items()},
        "output": hit.source.metadata.get("output"),
        "command": hit.source.metadata.get("command"),  # what made these bytes
        "ffmpeg_version": await ffmpeg_version(deps.settings),
        "instance": deps.instance_id,
        "attempt": job.attempts,
        "render_seconds": 0.0,
        "cpu_seconds": 0.0,
        "cache": hit.summary,
    }
    return await terminal(
        lambda: deps.stores.jobs.finish(
            job.id,
            token,
            JobState.COMPLETED,
            output_key=hit.video_key,
            thumbnail_key=hit.thumbnail_key,
            metadata=metadata,
            cache_key=hit.key,
        )
    )


async def _record_metrics(deps: Deps, job: Job, result: RenderResult) -> None:
    await record_job_metrics(deps.stores, job, [result.ffmpeg], timings=result.timings)


async def retrying(call: Callable[[], Awaitable[T]], *, tries: int | None = None) -> T:
    """Retry a storage call through a short outage (S3 or the database blinking), then give up.

    Backoff 0.5, 1, 2, 4 s: about 8 s in all, well inside a lease, so a blip costs a delay
    and a longer outage fails the job with STORAGE_ERROR instead of losing it.
    """
    tries = tries or RETRIES
    for attempt in range(tries):
        try:
            return await call()
        except StorageError:
            if attempt == tries - 1:
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def terminal(call: Callable[[], Awaitable[Job | None]]) -> Job | None:
    """A terminal write: retried through a blip and shielded from cancellation. If the store
    stays down the row keeps its lease, which expires, and the reaper hands the job on."""
    return await asyncio.shield(retrying(call))


async def _fail(job: Job, deps: Deps, exc: VidsvcError) -> Job | None:
    token = job.lease.token if job.lease else ""
    error = JobError(code=exc.code, message=exc.message, details=exc.details)
    return await terminal(
        lambda: deps.stores.jobs.finish(job.id, token, JobState.FAILED, error=error)
    )


async def _storage_down(job: Job, deps: Deps, exc: StorageError) -> Job | None:
    """Storage stayed down through the retries: not the job's fault, so it is retried later.

    Nothing is written: the lease is no longer renewed, expires, and the reaper (on any
    instance) puts the job back in the queue with this attempt counted, which also spaces the
    retries by LEASE_SECONDS. Only the last allowed attempt fails, with STORAGE_ERROR.
    """
    if job.attempts < job.max_attempts:
        log.warning(
            "storage unavailable; retrying after the lease expires",
            extra={"composition_id": job.id, "attempt": job.attempts},
        )
        return None
    return await _fail(job, deps, exc)


async def _stopped(job: Job, deps: Deps, control: Control) -> Job | None:
    token, jobs = (job.lease.token if job.lease else ""), deps.stores.jobs
    if control.reason == "cancel":
        return await terminal(lambda: jobs.finish(job.id, token, JobState.CANCELLED))
    if control.reason == "shutdown":
        return await terminal(lambda: jobs.requeue(job.id, token))
    return None  # the lease was lost: the new holder owns the job now


def _clips() -> ModuleType:
    # clips imports this module (Deps, retrying, terminal), so it is imported when first used
    from vidsvc.runner import clips

    return clips


async def _run(job: Job, deps: Deps, writer: ProgressWriter) -> Job | None:
    if job.kind is JobKind.CLIPS:
        result: Job | None = await _clips().run_clips(job, deps, writer)
        return result
    keys = _output_keys(job)
    # Recorded before anything is stored, so a later attempt knows what to clean up (C5)
    staged = [*job.metadata.get("staged_outputs", ()), *keys]
    await retrying(lambda: deps.stores.jobs.annotate(job.id, {"staged_outputs": staged}))
    done = await _render_and_store(job, deps, writer)
    await _drop_stale_outputs(deps, done, staged, keys)
    return done


def _output_keys(job: Job) -> tuple[str, str]:
    token = job.lease.token if job.lease else ""
    return f"outputs/{job.id}/{token}.mp4", f"outputs/{job.id}/{token}.jpg"


async def _drop_stale_outputs(
    deps: Deps, done: Job | None, staged: list[str], ours: tuple[str, ...]
) -> None:
    """One output per job (RELIABILITY C3, C5): a fenced attempt (done is None: the lease went
    to another worker) removes what it stored; the winner removes what dead attempts stored
    between their upload and their commit. Best effort: a leftover costs space, not safety."""
    doomed = ours if done is None else [k for k in staged if k not in ours]
    for key in doomed:
        try:
            await deps.stores.blobs.delete(key)
        except (StorageError, OSError):
            log.warning("could not delete a stale output", extra={"key": key})


async def execute(job: Job, deps: Deps, control: Control) -> Job | None:
    """Run a claimed job to a terminal state (or hand it back); returns the final row."""
    started = time.monotonic()
    writer = ProgressWriter(deps.stores, job, channel(job.id))
    final: Job | None = None
    log.info("job started", extra={"composition_id": job.id, "attempt": job.attempts})
    await publish(deps, job)  # watchers learn it is processing before the first progress
    try:
        final = await _run(job, deps, writer)
    except asyncio.CancelledError:
        await asyncio.shield(writer.close())
        final = await _stopped(job, deps, control)
        await asyncio.shield(publish(deps, final))
        raise
    except StorageError as exc:
        await writer.close()
        final = await _storage_down(job, deps, exc)
    except VidsvcError as exc:
        await writer.close()
        final = await _fail(job, deps, exc)
    except Exception as exc:  # a bug must still end the job, never strand it
        log.exception("job crashed", extra={"composition_id": job.id})
        await writer.close()
        final = await _fail(job, deps, ProcessingFailed(f"internal error ({type(exc).__name__})"))
    await publish(deps, final)
    if final is not None and final.kind is JobKind.CLIPS:
        await _clips().notify(deps, final)  # hands the result to callback delivery
    state = final.state.value if final else "lost"
    elapsed = round((time.monotonic() - started) * 1000)
    log.info(
        "job finished", extra={"composition_id": job.id, "state": state, "elapsed_ms": elapsed}
    )
    return final
