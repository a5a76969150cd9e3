"""The job lifecycle without FFmpeg: in-memory stores and a handler whose work a test scripts.

The lifecycle (runner/execute.py, pool.py, leases.py) knows no kind of work, so its tests
hand it a `Scripted` handler: each run waits on the test's gate, then does what the test set
(complete, raise, hang), and every call is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.jobs import make_job
from vidsvc.config import Settings
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.runner.lifecycle import AfterJob, Deps, terminal
from vidsvc.runner.reporter import Reporter
from vidsvc.store import Stores
from vidsvc.store.memory import MemoryBacklog, MemoryBlobStore, MemoryJobStore, MemoryPubSub


def memory_stores() -> Stores:
    return Stores(
        jobs=MemoryJobStore(),
        blobs=MemoryBlobStore(),
        pubsub=MemoryPubSub(),
        backlog=MemoryBacklog(),
    )


def deps(stores: Stores, after_job: tuple[AfterJob, ...] = (), **settings: Any) -> Deps:
    values: dict[str, Any] = {"heartbeat_seconds": 0.05, "lease_seconds": 5.0} | settings
    return Deps(settings=Settings(**values), stores=stores, instance_id="w1", after_job=after_job)


async def claimed(stores: Stores, kind: JobKind = JobKind.COMPOSITION, **changes: Any) -> Job:
    """A job created and claimed by worker "w1"."""
    job = await stores.jobs.create(make_job(kind=kind, **changes))
    row = await stores.jobs.claim(job.id, owner="w1", lease_s=30)
    assert row is not None
    return row


Action = Callable[[Job, Deps], Awaitable[Job | None]]


async def complete(job: Job, deps: Deps) -> Job | None:
    """What a handler does on success: a fenced finish, COMPLETED."""
    return await terminal(lambda: deps.stores.jobs.finish(job.id, job.token, JobState.COMPLETED))


@dataclass
class Scripted:
    """A Handler whose `run` waits for `gate`, then performs `action`."""

    action: Action = complete
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    ran: list[str] = field(default_factory=list)
    finished_jobs: list[Job] = field(default_factory=list)
    admitted: list[Mapping[str, Any]] = field(default_factory=list)
    under_way_seen: list[int] = field(default_factory=list)
    closed: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gate.set()  # open unless a test closes it

    async def admit(self, document: Mapping[str, Any], settings: Settings) -> Job:
        self.admitted.append(document)
        return make_job(payload=dict(document))

    async def run(self, job: Job, deps: Deps, report: Reporter) -> Job | None:
        self.ran.append(job.id)
        self.under_way_seen.append(deps.load.under_way)
        await self.gate.wait()
        return await self.action(job, deps)

    async def finished(self, job: Job, deps: Deps) -> None:
        self.finished_jobs.append(job)

    async def close(self, timeout: float) -> None:
        self.closed.append(timeout)
