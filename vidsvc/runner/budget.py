"""Budget: MAX_CONCURRENT_JOBS units of FFmpeg-heavy work, shared by renders and beat analyses.

The pool bounds the jobs it claims with its own slots; each claimed job then runs under a unit
of this budget (`budgeted` wraps the handlers' `run`), and so does each beat analysis (the app
hands `WorkerPool.slot` to vidsvc/beats/service.py). Renders and analyses together therefore
never run more than MAX_CONCURRENT_JOBS at once.

Renders come first, in two ways. Other work may hold at most `others` units, by default all
but one (MAX_CONCURRENT_JOBS - 1, and the one unit when there is only one): with two units or
more, a render never waits for analyses alone, so a render-cache hit stays fast however many
analyses are queued; with one, it waits for at most the analysis under way. And a freed unit
goes to a waiting job first, then to other work in arrival order. A job's unit is freed before
its pool slot lets the next job be claimed, so a finishing job hands its unit to a waiting
analysis: renders arriving back to back cannot starve analyses (a saturated service makes them
wait, and their wait is bounded where they are made: beats/service.py). The unit is taken
inside the handler's `run`, so a job stopped while it waits ends as any stopped job does
(execute.py: cancelled, handed back, or left to its new owner).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from vidsvc.config import Settings
from vidsvc.jobs import Job, JobKind
from vidsvc.runner.lifecycle import Deps, Handler, JobIds, Queue
from vidsvc.runner.reporter import Reporter


class Budget:
    def __init__(self, units: int, *, others: int | None = None) -> None:
        self.units = units
        self.others = max(1, units - 1) if others is None else others  #: at most, not jobs
        self.in_use = 0  #: units held now (granted to a waiter that has not resumed included)
        self.others_in_use = 0
        self._jobs: deque[asyncio.Future[None]] = deque()  #: served first
        self._others: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> tuple[int, int]:
        """(jobs, other work) waiting for a unit now."""
        return _live(self._jobs), _live(self._others)

    def _fits(self, job: bool) -> bool:
        return self.in_use < self.units and (job or self.others_in_use < self.others)

    def _take(self, job: bool) -> None:
        self.in_use += 1
        self.others_in_use += not job

    async def acquire(self, *, job: bool = False) -> None:
        # What fits is granted on every release (_wake), so a unit that fits now has no one
        # of this kind queued for it: a newcomer never jumps the queue.
        if self._fits(job):
            self._take(job)
            return
        waiter = asyncio.get_running_loop().create_future()
        queue = self._jobs if job else self._others
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(job=job)  # granted a unit just as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(waiter)
            raise

    def release(self, *, job: bool = False) -> None:
        self.in_use -= 1
        self.others_in_use -= not job
        self._wake()

    def _wake(self) -> None:
        for job, queue in ((True, self._jobs), (False, self._others)):
            while queue and self._fits(job):
                waiter = queue.popleft()
                if not waiter.done():  # a cancelled waiter is skipped
                    self._take(job)
                    waiter.set_result(None)

    @asynccontextmanager
    async def unit(self, *, job: bool = False) -> AsyncIterator[None]:
        """Hold one unit for the block; `job`: a render, served before other work."""
        await self.acquire(job=job)
        try:
            yield
        finally:
            self.release(job=job)


def _live(queue: deque[asyncio.Future[None]]) -> int:
    return sum(not waiter.done() for waiter in queue)


@dataclass(frozen=True, slots=True)
class _Budgeted:
    """A kind's handler whose `run` holds a unit of the budget, as a job, for its span."""

    inner: Handler
    budget: Budget

    @property
    def ids(self) -> JobIds:
        return self.inner.ids

    @property
    def registry(self) -> CollectorRegistry | None:
        return self.inner.registry

    def estimate(self, job: Job, queue: Queue) -> Awaitable[float | None]:
        return self.inner.estimate(job, queue)

    def admit(self, document: Mapping[str, Any], settings: Settings) -> Awaitable[Job]:
        return self.inner.admit(document, settings)

    async def run(self, job: Job, deps: Deps, report: Reporter) -> Job | None:
        async with self.budget.unit(job=True):
            return await self.inner.run(job, deps, report)

    def finished(self, job: Job, deps: Deps) -> Awaitable[None]:
        return self.inner.finished(job, deps)

    def close(self, timeout: float) -> Awaitable[None]:
        return self.inner.close(timeout)


def budgeted(handlers: Mapping[JobKind, Handler], budget: Budget) -> dict[JobKind, Handler]:
    """The handlers, each running its jobs under a unit of `budget`."""
    return {kind: _Budgeted(handler, budget) for kind, handler in handlers.items()}
