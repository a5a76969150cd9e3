"""Internal clip processing: submit (validate, idempotent by processing_id) and run a clips job.

Per clip: workspace → stage → probe → build (graph.clip_ops) → ONE FFmpeg run → store each output
under `processed/{processing_id}/{token}/{index}/{name}.{ext}`. FFmpegProgress uses the composition
bands within each clip's share of 0–99 %. Execution is reached from execute.execute, which owns
the terminal writes, so a clips job fails, retries and is fenced exactly like a composition.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from vidsvc import cliptask, graph
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, ProcessingFailed, ProcessingNotFound
from vidsvc.graph import clip_ops
from vidsvc.inputs import policy, staging
from vidsvc.jobs import Job, JobKind, JobState, Stage
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.probe import MediaInfo, probe
from vidsvc.media.progress import FFmpegProgress, eta_seconds
from vidsvc.media.spliceable import inspect
from vidsvc.media.threads import threads_for_job
from vidsvc.media.workspace import workspace
from vidsvc.runner.lifecycle import Deps, JobIds, Queue, retrying, terminal
from vidsvc.runner.metrics import record_job_metrics
from vidsvc.runner.reporter import Reporter
from vidsvc.runner.usage import Usage
from vidsvc.schema import parse_clip_task
from vidsvc.work.clips import callbacks
from vidsvc.work.clips.outcome import ClipResult, ClipsOutcome

log = logging.getLogger(__name__)
CONTENT_TYPES = {"mp4": "video/mp4", "jpg": "image/jpeg"}


def _command(
    task: cliptask.ClipTask, name: str, info: MediaInfo, settings: Settings, threads: int
) -> clip_ops.ClipCommand:
    source = graph.Source(
        name=name, duration_ms=info.duration_ms, has_video=True, has_audio=info.has_audio
    )
    enc = graph.Encoding(
        duration_ms=info.duration_ms,
        crf=settings.default_crf,
        preset=settings.x264_preset,
        threads=threads,
        max_pixels=settings.max_input_pixels,
    )
    return clip_ops.compile_clip(clip_ops.build_clip(task, source), enc)


async def _run_one(
    task: cliptask.ClipTask, index: int, work: Path, deps: Deps, report: Reporter
) -> tuple[dict[str, Path], dict[str, Any], list[str], FFmpegRun, dict[str, Any] | None]:
    url, field, settings = task.clips[index], f"clips[{index}]", deps.settings

    def on_bytes(done: int, total: int | None) -> None:
        report(Stage.DOWNLOADING, done / total if total else 0.0, "fetching")

    report(Stage.DOWNLOADING, 0.0, "fetching")
    staged = await staging.stage([url], work, settings, on_bytes=on_bytes, fields={url: field})
    report(Stage.VALIDATING, 0.0, "probing")
    info = await probe(staged[url], settings, field=field)
    if not info.has_video:
        raise InvalidClipFormat.at(field, "has no video stream")
    threads = threads_for_job(settings, deps.load)
    command = _command(task, staged[url].name, info, settings, threads)
    total = max(command.expected_duration_ms, 1)

    def on_progress(p: FFmpegProgress) -> None:
        eta = eta_seconds(p, total)  # this clip's encode only
        report(Stage.ENCODING, p.out_time_ms / total, "encoding", eta=eta, speed=p.speed)

    report(Stage.ENCODING, 0.0, "encoding")
    run = await run_ffmpeg(
        command.argv, settings=settings, cwd=work, on_progress=on_progress, load=deps.load
    )
    files = {name: work / file for name, file in command.files.items()}
    for name, path in files.items():
        if not path.is_file() or path.stat().st_size == 0:
            raise ProcessingFailed(f"{field}: ffmpeg finished without writing {name}")
    video = clip_ops.video_product(task)
    # render-ready: checked on the file written, not assumed from the options
    ready = await inspect(files[video], settings) if video else None
    fingerprint = ready.fingerprint() if ready else None
    return files, info.summary(), ["ffmpeg", *command.argv], run, fingerprint


async def _store(
    deps: Deps, job_id: str, token: str, index: int, files: dict[str, Path]
) -> dict[str, str]:
    keys: dict[str, str] = {}
    for name, path in files.items():
        ext = path.suffix.lstrip(".")
        # the claim's token in the key: a zombie attempt can never overwrite the winner's files
        keys[name] = f"processed/{job_id}/{token}/{index}/{name}.{ext}"
        await retrying(_put(deps, keys[name], path, CONTENT_TYPES[ext]))
    return keys


def _put(deps: Deps, key: str, path: Path, kind: str) -> Callable[[], Awaitable[None]]:
    return lambda: deps.stores.blobs.put_file(key, path, content_type=kind)


async def _run(job: Job, deps: Deps, progress: Reporter) -> Job | None:
    """Process every clip of a claimed clips job, then finish it COMPLETED (fenced)."""
    token = job.token
    task = parse_clip_task(job.payload)
    count = len(task.clips)
    whole = Reporter(progress.sink, flush=progress.flush, span=(0.0, 99.0))  # 100: completed
    results: list[ClipResult] = []
    commands: list[list[str]] = []
    runs: list[FFmpegRun] = []
    async with workspace(deps.settings, job.id) as root:  # the job's one scratch directory
        for index, url in enumerate(task.clips):
            report = whole.part(index, count, f"clip {index + 1}/{count}: ")
            work = root / str(index)
            work.mkdir()
            files, summary, argv, run, ready = await _run_one(task, index, work, deps, report)
            report(Stage.UPLOADING, 0.0, "storing the outputs")
            keys = await _store(deps, job.id, token, index, files)
            # stored: a long job needs the scratch space of one clip at a time
            await asyncio.to_thread(shutil.rmtree, work, ignore_errors=True)
            # render_ready: the video product's fingerprint; None when not ready or none made
            results.append(ClipResult(clip=url, outputs=keys, probe=summary, render_ready=ready))
            commands.append(argv)
            runs.append(run)
    await progress.flush()
    outcome = ClipsOutcome(
        results=results,
        commands=commands,
        operations=task.operations,
        instance=deps.instance_id,
        attempt=job.attempts,
        usage=Usage.of(runs),
    )
    metadata = outcome.to_dict()
    done = await terminal(
        lambda: deps.stores.jobs.finish(job.id, token, JobState.COMPLETED, metadata=metadata)
    )
    await record_job_metrics(deps.stores, job, runs)
    return done


class Clips:
    """The Handler of JobKind.CLIPS: the job's id is the client's processing_id."""

    ids = JobIds(
        pattern=re.compile(cliptask.PROCESSING_ID_PATTERN),
        not_found=lambda job_id: ProcessingNotFound(
            f"processing job {job_id[:80]!r} does not exist"
        ),
        client_chosen=True,  # processing_id: a client's retry is the same job
        field="processing_id",
    )

    registry = None  #: the runner's metrics cover clips jobs

    async def estimate(self, job: Job, queue: Queue) -> None:
        return None  # the internal API promises no duration

    async def admit(self, document: Mapping[str, Any], settings: Settings) -> Job:
        """Each clip URL's policy; the callback URL's, statically and by what its host
        resolves to (delivery checks that again at send time: DNS may change in between)."""
        task = parse_clip_task(document)
        for i, url in enumerate(task.clips):
            policy.check_url(url, settings, field=f"clips[{i}]")
        if task.callback_url:
            callbacks.check_callback_url(task.callback_url, settings, field="callback_url")
            await callbacks.check_callback_resolves(
                task.callback_url, settings, field="callback_url"
            )
        return Job.queued(
            id=task.processing_id,
            kind=JobKind.CLIPS,
            payload=document,
            user_id=task.user_id,
            max_attempts=settings.max_attempts,
        )

    async def run(self, job: Job, deps: Deps, report: Reporter) -> Job | None:
        return await _run(job, deps, report)

    async def finished(self, job: Job, deps: Deps) -> None:
        """Hand the result to callback delivery, which schedules the POST outside the render
        pool and returns at once (no callback_url: nothing to do)."""
        task = parse_clip_task(job.payload)
        if task.callback_url:
            await callbacks.notify(deps, job, task.callback_url)

    async def close(self, timeout: float) -> None:
        """Deliveries under way get `timeout` seconds; undelivered ones stay recorded."""
        await callbacks.drain_callbacks(timeout)
