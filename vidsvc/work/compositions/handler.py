"""The composition handler: admit a posted composition; run one to a stored output.

    parse → cache lookup | render (stage, probe, one FFmpeg pass) → store output + thumbnail
    → finish COMPLETED (fenced)

Outputs are stored under keys fenced by the attempt's lease token, and recorded in the row
before anything is stored, so a later attempt knows what to clean up (RELIABILITY C3, C5).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import StorageError
from vidsvc.jobs import Job, JobKind, JobState, new_job_id, utcnow
from vidsvc.media.ffmpeg import ffmpeg_version
from vidsvc.media.probe import probe
from vidsvc.media.workspace import workspace
from vidsvc.runner.lifecycle import Deps, retrying, terminal
from vidsvc.runner.metrics import record_job_metrics, usage_metadata
from vidsvc.runner.progress_writer import ProgressWriter
from vidsvc.schema import parse_composition
from vidsvc.work.compositions import cache
from vidsvc.work.compositions.render import RenderResult, check, render

log = logging.getLogger(__name__)


def output_keys(job: Job) -> tuple[str, str]:
    """This attempt's video and thumbnail keys: fenced by its lease token."""
    return f"outputs/{job.id}/{job.token}.mp4", f"outputs/{job.id}/{job.token}.jpg"


async def _common(deps: Deps, job: Job, timings: Mapping[str, float]) -> dict[str, Any]:
    """The metadata every completion carries, a render's or a cache hit's."""
    waited = (job.started_at - job.created_at).total_seconds() if job.started_at else 0.0
    return {
        "timings": {"queued": round(waited, 3), **timings},
        "ffmpeg_version": await ffmpeg_version(deps.settings),
        "instance": deps.instance_id,
        "attempt": job.attempts,
    }


async def _metadata(deps: Deps, job: Job, result: RenderResult) -> dict[str, Any]:
    output = await probe(result.video, deps.settings, field="output")
    return {
        **await _common(deps, job, result.timings),
        "inputs": {url: info.summary() for url, info in result.inputs.items()},
        "output": output.summary(),
        "command": ["ffmpeg", *result.argv],
        "sharing": round(result.sharing, 2),  # the estimator's input: see runner/estimate.py
        **usage_metadata([result.ffmpeg]),  # render_seconds, cpu_seconds, memory_peak_mb…
    }


async def _render_and_store(
    job: Job, deps: Deps, writer: ProgressWriter, keys: tuple[str, str]
) -> Job | None:
    comp = parse_composition(job.payload)
    video_key, thumb_key = keys
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
            job.token,
            JobState.COMPLETED,
            output_key=video_key,
            thumbnail_key=thumb_key,
            metadata=metadata | {"cache": lookup.summary},
            cache_key=lookup.key,
        )
    )
    await record_job_metrics(deps.stores, job, [result.ffmpeg], timings=result.timings)
    return done


async def _served(job: Job, deps: Deps, writer: ProgressWriter, hit: cache.Hit) -> Job | None:
    """A render cache hit: the earlier output, already copied to this job's keys, completes it
    (fenced like any completion). What describes the output comes from the earlier job."""
    await writer.close()
    metadata = {
        **await _common(deps, job, hit.timings),
        "inputs": {url: info.summary() for url, info in hit.prepared.inputs.items()},
        "output": hit.source.metadata.get("output"),
        "command": hit.source.metadata.get("command"),  # what made these bytes
        "render_seconds": 0.0,
        "cpu_seconds": 0.0,
        "cache": hit.summary,
    }
    return await terminal(
        lambda: deps.stores.jobs.finish(
            job.id,
            job.token,
            JobState.COMPLETED,
            output_key=hit.video_key,
            thumbnail_key=hit.thumbnail_key,
            metadata=metadata,
            cache_key=hit.key,
        )
    )


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


class Compositions:
    """The Handler of JobKind.COMPOSITION."""

    async def admit(self, document: Mapping[str, Any], settings: Settings) -> Job:
        comp = parse_composition(document)
        check(comp, settings)
        now = utcnow()
        return Job(
            id=new_job_id(),
            kind=JobKind.COMPOSITION,
            state=JobState.QUEUED,
            payload=dict(document),
            created_at=now,
            updated_at=now,
            user_id=comp.user_id,
            max_attempts=settings.max_attempts,
        )

    async def run(self, job: Job, deps: Deps, writer: ProgressWriter) -> Job | None:
        keys = output_keys(job)
        # Recorded before anything is stored, so a later attempt knows what to clean up (C5)
        staged = [*job.metadata.get("staged_outputs", ()), *keys]
        await retrying(lambda: deps.stores.jobs.annotate(job.id, {"staged_outputs": staged}))
        done = await _render_and_store(job, deps, writer, keys)
        await _drop_stale_outputs(deps, done, staged, keys)
        return done

    async def finished(self, job: Job, deps: Deps) -> None:
        return None

    async def close(self, timeout: float) -> None:
        return None
