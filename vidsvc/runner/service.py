"""Runner: the one façade the HTTP layer talks to — submit, dry-run, read, cancel, watch, health.

`Runner.open(settings)` opens the stores (migrations applied), recovers what a dead process
left (its jobs go back to the queue, its scratch directories are removed), rebuilds the
backlog from the database, and starts the pool and the lease reaper; leaving it drains the
pool and closes everything in reverse order.

What differs by kind of work (how a request becomes a job, how a job runs) comes from the
handlers the composition root hands in; the façade only stores, wakes, reads and cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from vidsvc.callbacks.links import LocalFiles
from vidsvc.callbacks.outbox import Outbox, armed
from vidsvc.config import Settings
from vidsvc.errors import QueueFull, ServiceUnavailable, StorageError, ValidationError
from vidsvc.jobs import Job, JobEvent, JobKind, JobState
from vidsvc.media import children, gpu, workspace
from vidsvc.media.load import Load
from vidsvc.media.memory_gate import MemoryGate, budget_mb
from vidsvc.runner import health, leases, watch
from vidsvc.runner.execute import Handlers
from vidsvc.runner.lifecycle import (
    Deps,
    DryRunning,
    Queue,
    StopReason,
    Sweeping,
    Waiting,
    channel,
    publish,
)
from vidsvc.runner.metrics import RunnerMetrics
from vidsvc.runner.pool import WorkerPool
from vidsvc.store import Stores, open_stores

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5


def _instance_id(settings: Settings) -> str:
    return settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"


def _owner(settings: Settings) -> str:
    return settings.instance_id or socket.gethostname()


def _job_settings(settings: Settings) -> Settings:
    """Renders work under TMP_DIR/jobs/<instance>, which this instance sweeps when it starts.

    The directory is named by INSTANCE_ID or the host name, not the pid, so a restarted
    instance finds what its previous life left behind, and two instances sharing a TMP_DIR
    (set distinct INSTANCE_IDs) never sweep each other's live work.
    """
    tmp_dir = Path(settings.tmp_dir) / "jobs" / _owner(settings)
    return dataclasses.replace(settings, tmp_dir=tmp_dir)


class Runner:
    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        handlers: Handlers,
        nvenc_check: gpu.Checked | None = None,
        local_files: LocalFiles | None = None,
    ) -> None:
        self.settings = _job_settings(settings)
        self.nvenc_check = nvenc_check  #: the start-up check's result (ENABLE_GPU_ENCODING)
        self.stores = stores
        self.templates = stores.templates  #: saved compositions; no job ever reads one
        self.handlers = handlers
        self.instance_id = _instance_id(settings)
        load = Load()
        load.memory = MemoryGate(budget_mb(self.settings))
        self.metrics = RunnerMetrics(load)
        self.deps = Deps(
            settings=self.settings,
            stores=stores,
            instance_id=self.instance_id,
            load=load,
            after_job=(self._finished,),
        )
        self.pool = WorkerPool(self.deps, handlers)
        #: webhooks, outside the pool (callbacks/outbox.py); local_files signs their links
        self.outbox = Outbox.of(self.settings, stores, handlers, self.instance_id, local_files)
        self.draining = False
        self._reaper: asyncio.Task[None] | None = None

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, handlers: Handlers, *, local_files: LocalFiles | None = None
    ) -> AsyncIterator[Runner]:
        checked = await gpu.check(settings)  # ENABLE_GPU_ENCODING: NVENC works here, or no start
        async with open_stores(settings) as stores:
            runner = cls(settings, stores, handlers, nvenc_check=checked, local_files=local_files)
            await runner._sweep(settings)
            await leases.recover(runner.deps)
            await runner.outbox.recover()
            runner.pool.start()
            runner.outbox.start()
            sweeps = [h.sweep for h in handlers.values() if isinstance(h, Sweeping)]
            reaping = leases.reap_forever(runner.deps, sweeps)
            runner._reaper = asyncio.create_task(reaping, name="reaper")
            try:
                yield runner
            finally:
                await runner._stop()

    async def _sweep(self, settings: Settings) -> None:
        """What a previous life left (docs/reliability.md C10): FFmpeg processes marked with our
        owner whose vidsvc is dead, and job directories under TMP_DIR of jobs no longer live
        (recover clears our own TMP_DIR/jobs/<owner>)."""
        owner = _owner(settings)
        children.mark_as(owner)  # before anything is spawned
        await asyncio.to_thread(children.kill_orphans, owner)

        async def live(job_id: str) -> bool:
            job = await self.stores.jobs.get(job_id)
            return job is not None and not job.state.terminal

        for path in await workspace.sweep(Path(settings.tmp_dir), live):
            log.info("removed a stale scratch directory", extra={"path": str(path)})

    async def _stop(self) -> None:
        self.draining = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await self.pool.stop(self.settings.shutdown_grace)
        # what handlers still have under way (callbacks) gets a last moment, none when hurried
        for handler in self.handlers.values():
            await handler.close(0 if self.pool.hurried else self.settings.kill_grace)
        await self.outbox.stop(0 if self.pool.hurried else self.settings.kill_grace)

    def begin_drain(self) -> None:
        self.draining = True

    def hurry(self) -> None:
        """A second stop signal: skip the rest of SHUTDOWN_GRACE (docs/reliability.md C9)."""
        self.draining = True
        self.pool.hurry()

    # -- the façade -------------------------------------------------------------------------

    async def submit(
        self, kind: JobKind, document: Mapping[str, Any], *, origin: str = ""
    ) -> tuple[Job, bool]:
        """Validate, commit, wake a worker; (job, True) when newly created. The row, and its
        webhook event (links under `origin`), are durable before this returns. A kind whose
        ids the client chooses answers a repeated submit with the job it already has."""
        self._accepting()
        handler = self.handlers[kind]
        job = await handler.admit(document, self.settings)
        client_chosen = handler.ids.client_chosen
        if client_chosen and (found := await self._existing(job.id, kind)):
            return found, False
        await self._room()
        try:
            # committed: now the job cannot be lost, nor the webhook its end owes
            job = await self.stores.jobs.create(job, callback=armed(handler, job, origin))
        except ValueError:  # a concurrent submit with the same client-chosen id won the insert
            if not client_chosen:
                raise
            return await self.get(kind, job.id), False
        await self._wake(job)
        return job, True

    def _accepting(self) -> None:
        if self.draining:
            retry = {"retry_after": RETRY_AFTER_S}
            raise ServiceUnavailable("the service is shutting down", details=retry)

    async def _room(self) -> None:
        # a split render's parts are its own work, not jobs clients queued
        jobs = self.stores.jobs
        queued = await jobs.count(JobState.QUEUED) - await jobs.count(
            JobState.QUEUED, kind=JobKind.PART
        )
        if queued >= self.settings.max_queued_jobs:
            raise QueueFull(
                f"{queued} jobs are waiting (MAX_QUEUED_JOBS={self.settings.max_queued_jobs})",
                details={"retry_after": RETRY_AFTER_S},
            )

    async def _wake(self, job: Job) -> None:  # the row is committed; now tell a worker
        try:
            await self.stores.backlog.push(job.id)
        except StorageError:  # Redis away: the reconciler pushes it, idle workers claim it
            log.warning("backlog unavailable at submit", extra={"job_id": job.id})
        log.info("job queued", extra={"job_id": job.id, "state": "queued"})

    async def _existing(self, job_id: str, kind: JobKind) -> Job | None:
        """The job with this client-chosen id, if any; an id another kind took is refused."""
        job = await self.stores.jobs.get(job_id)
        if job is not None and job.kind is not kind:
            field = self.handlers[kind].ids.field
            raise ValidationError.at(field, "already used by another job")
        return job

    async def get(self, kind: JobKind, job_id: str) -> Job:
        """The job of this kind with this id, or the kind's not-found error."""
        ids = self.handlers[kind].ids
        job = await self.stores.jobs.get(job_id) if ids.plausible(job_id) else None
        if job is None or job.kind is not kind:
            raise ids.not_found(job_id)
        return job

    async def list(
        self, *, state: JobState | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        before = cursor if cursor and _plausible(cursor) else None
        page = await self.stores.jobs.list(state=state, limit=limit + 1, before=before)
        if cursor and before is None:
            page = []
        more = len(page) > limit
        page = page[:limit]
        return page, (page[-1].id if more and page else None)

    async def cancel(self, kind: JobKind, job_id: str) -> Job:
        await self.get(kind, job_id)
        job = await self.stores.jobs.cancel(job_id)
        if job is None:
            raise self.handlers[kind].ids.not_found(job_id)
        if job.state is JobState.CANCELLED:
            with contextlib.suppress(StorageError):  # a stale wake-up only fails its claim
                await self.stores.backlog.discard(job_id)
            await publish(self.deps, job)
            self.outbox.wake()  # a queued job's cancel is its end too
        elif job.cancel_requested:  # here: at once; elsewhere: its heartbeat
            handler = self.handlers[kind]
            stopped = self.pool.stop_job(job_id, StopReason.CANCEL)
            if not stopped and isinstance(handler, Waiting):  # held by nobody: end it here
                ended = await handler.end_waiting(job, self.deps)
                if ended is not None:
                    self.outbox.wake()
                    job = ended
        return job

    async def estimate_seconds(self, job: Job) -> float | None:
        """Called right after submit: the queue is counted after the job's own insert, so
        requests submitted together see each other."""
        return await self.handlers[job.kind].estimate(job, await self._queue(own=1))

    async def dry_run(self, kind: JobKind, document: Mapping[str, Any]) -> dict[str, Any]:
        """What submitting `document` and running it would meet, short of a row or an output
        (the kind's plan, or the error); refused like a submit while draining."""
        self._accepting()
        handler = self.handlers[kind]
        if not isinstance(handler, DryRunning):
            raise ValidationError.at("dry_run", f"{kind.value} jobs have no dry run")
        return await handler.dry_run(document, self.settings, await self._queue(own=0))

    async def _queue(self, *, own: int) -> Queue:
        """The queue a job sees; `own`: its row, counted among the queued when inserted."""
        try:
            others = max(await self.stores.jobs.count(JobState.QUEUED) - own, 0)
        except StorageError:  # an estimate is not worth a 503
            others = 0
        return Queue(
            ahead=others, running=len(self.pool.running), slots=self.settings.max_concurrent_jobs
        )

    def registries(self) -> tuple[CollectorRegistry, ...]:
        """The runner's Prometheus metrics, then each kind's own (GET /metrics)."""
        kinds = (h.registry for h in self.handlers.values() if h.registry is not None)
        return (self.metrics.registry, *kinds)

    async def _finished(self, job: Job) -> None:
        """After each job this instance ran: what it adds to the metrics; its webhook."""
        self.metrics.observe(job)
        self.outbox.wake()

    async def blob_url(self, key: str) -> str | None:
        return await self.stores.blobs.url(key, expires_s=self.settings.download_url_ttl)

    def blob_path(self, key: str) -> Path | None:
        return self.stores.blobs.local_path(key)

    @asynccontextmanager
    async def watch(
        self, kind: JobKind, job_id: str
    ) -> AsyncIterator[tuple[Job, AsyncIterator[JobEvent]]]:
        """Subscribe first, then read the snapshot, so nothing falls between the two."""
        await self.get(kind, job_id)
        async with self.stores.pubsub.subscribe(channel(job_id)) as messages:
            snapshot = await self.get(kind, job_id)

            reread = functools.partial(self.get, kind, job_id)
            yield snapshot, watch.newer(snapshot.progress_seq, messages, reread)

    async def health(self) -> dict[str, str]:
        return await health.components(self.settings, self.stores)

    def encoder(self) -> dict[str, Any]:
        """What renders encode with (for /health/detailed; see media/gpu.py `status`)."""
        return gpu.status(self.settings, self.nvenc_check)


def _plausible(job_id: str) -> bool:
    """Ids are ours (`comp_` + hex); anything else is unknown without asking the database."""
    return 5 < len(job_id) <= 64 and job_id.replace("_", "").isalnum() and job_id.isascii()
