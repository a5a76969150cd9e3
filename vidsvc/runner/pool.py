"""WorkerPool: at most MAX_CONCURRENT_JOBS renders at once, each with a heartbeat on its lease.

The dispatcher takes a free slot, then a job: the next id from the backlog (claimed by id), or,
when the backlog is quiet, the oldest queued row (so a lost wake-up delays a job by at most
POLL_SECONDS, never strands it). The row is the lock; the backlog only wakes us.

A claimed job runs under a unit of the pool's `budget` (budget.py), which beat analyses share
through `slot()`: renders and analyses together never exceed MAX_CONCURRENT_JOBS, analyses
leave a unit to jobs when there are two or more, and a job waiting for a unit goes first.

Stopping: no new claims; running jobs get SHUTDOWN_GRACE to finish; the rest are cancelled with
reason SHUTDOWN (FFmpeg's process group is killed and the job is handed back to the queue).
`hurry()` (a second SIGTERM) cuts the grace short: the cancelling starts at once.

"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from vidsvc.errors import StorageError, VidsvcError
from vidsvc.jobs import Job, JobId
from vidsvc.runner.budget import Budget, budgeted
from vidsvc.runner.execute import Handlers, execute
from vidsvc.runner.lifecycle import Control, Deps, StopReason

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


@dataclass(slots=True)
class Running:
    task: asyncio.Task[Job | None]
    control: Control
    heartbeat: asyncio.Task[None]


class WorkerPool:
    def __init__(self, deps: Deps, handlers: Handlers) -> None:
        self.deps = deps
        self.budget = Budget(deps.settings.max_concurrent_jobs)
        self.handlers = budgeted(handlers, self.budget)
        self.load = deps.load  #: every job here counts in it from its claim to its end
        self.settings = deps.settings
        self.running: dict[JobId, Running] = {}
        self._slots = asyncio.Semaphore(self.settings.max_concurrent_jobs)
        self._dispatcher: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()

    def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="pool-dispatch")

    def slot(self) -> AbstractAsyncContextManager[None]:
        """A unit of the budget for FFmpeg-heavy work outside a job (a beat analysis), held for
        the block; it waits behind the jobs waiting for one, and such work holds at most all
        but one unit (budget.py)."""
        return self.budget.unit()

    async def _next(self) -> Job | None:
        jobs, owner, lease = (
            self.deps.stores.jobs,
            self.deps.instance_id,
            self.settings.lease_seconds,
        )
        backlog = self.deps.stores.backlog
        if self.deps.claim_here:
            return await jobs.claim(self.deps.claim_here.popleft(), owner=owner, lease_s=lease)
        try:
            job_id = await backlog.pop(POLL_SECONDS)
        except StorageError:  # Redis away: the database still knows what is queued
            log.warning("backlog unavailable; claiming from the database")
            await asyncio.sleep(POLL_SECONDS)
            job_id = None
        if job_id is not None:
            job = await jobs.claim(job_id, owner=owner, lease_s=lease)
            with contextlib.suppress(StorageError):  # a missed ack is reclaimed later
                await backlog.ack(job_id)  # claimed or not, the row decided: forget it
            return job
        # A quiet backlog: take the oldest queued row, so a lost wake-up delays, never strands.
        return await jobs.claim_next(owner=owner, lease_s=lease)

    async def _dispatch(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                job = await self._next()
            except VidsvcError:
                log.warning("claiming failed; retrying", exc_info=True)
                job = None
                await asyncio.sleep(POLL_SECONDS)
            except BaseException:
                self._slots.release()
                raise
            if job is None:
                self._slots.release()
                continue
            self._launch(job)

    def _launch(self, job: Job) -> None:
        control = Control()
        task = asyncio.create_task(self._run(job, control), name=f"job:{job.id}")
        beat = asyncio.create_task(self._heartbeat(job, control, task), name=f"beat:{job.id}")
        self.running[job.id] = Running(task=task, control=control, heartbeat=beat)

        def done(finished: asyncio.Task[Job | None]) -> None:
            beat.cancel()
            self.running.pop(job.id, None)
            self._slots.release()

        task.add_done_callback(done)

    async def _run(self, job: Job, control: Control) -> Job | None:
        with self.load.render():
            return await execute(job, self.deps, control, self.handlers)

    async def _heartbeat(self, job: Job, control: Control, task: asyncio.Task[Job | None]) -> None:
        """Renew the lease; stop the job if it was cancelled elsewhere or its lease was lost."""
        token = job.token
        jobs = self.deps.stores.jobs
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            if control.settled:  # its row is written: a job handed off keeps the lease it set
                return
            try:
                renewed = await jobs.renew(job.id, token, self.settings.lease_seconds)
                row = await jobs.get(job.id)
            except VidsvcError:  # a blip: keep rendering and try again next beat
                continue
            if row is not None and row.cancel_requested:
                self.stop_job(job.id, StopReason.CANCEL)
                return
            if not renewed:
                self.stop_job(job.id, StopReason.LOST)
                return

    def stop_job(self, job_id: JobId, reason: StopReason) -> bool:
        """Cancel a job running here; `reason` decides what its last write is. A settled job
        (its final row written; the heartbeat's renewal then fails) runs its after-job steps
        to their end: cancelling it there skipped the estimator, metrics and the log line."""
        running = self.running.get(job_id)
        if running is None or running.control.settled:
            return False
        running.control.reason = reason
        running.task.cancel()
        return True

    def hurry(self) -> None:
        """No more grace: `stop` (under way or to come) hands running jobs back at once."""
        self._hurry.set()

    @property
    def hurried(self) -> bool:
        return self._hurry.is_set()

    async def stop(self, grace: float) -> None:
        """Stop claiming, give running jobs `grace` seconds, then hand the rest back."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        tasks = [r.task for r in self.running.values()]
        if tasks and not self.hurried:
            finished = asyncio.ensure_future(asyncio.wait(tasks))
            hurried = asyncio.ensure_future(self._hurry.wait())
            first = asyncio.FIRST_COMPLETED
            await asyncio.wait({finished, hurried}, timeout=grace, return_when=first)
            finished.cancel()
            hurried.cancel()
        for job_id in list(self.running):
            self.stop_job(job_id, StopReason.SHUTDOWN)
        leftovers = [r.task for r in self.running.values()]
        if leftovers:
            await asyncio.gather(*leftovers, return_exceptions=True)
