"""The toolkit every kind of work uses: what a handler is given, and how it writes safely.

A `Handler` does one kind of work (a composition, a clips job); the lifecycle (execute.py)
claims, runs it, and owns every terminal write and what follows. Writes a handler makes
carry the claim's lease token (`job.token`), so a worker that lost its lease can neither
overwrite the result nor flip the state (docs/reliability.md INV-3); `retrying` rides out a storage
blip, and `terminal` does that shielded from cancellation.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from prometheus_client import CollectorRegistry

from vidsvc.config import Settings
from vidsvc.errors import StorageError, VidsvcError
from vidsvc.jobs import Job, JobEvent, JobId
from vidsvc.media.load import Load
from vidsvc.runner.reporter import Reporter
from vidsvc.store import Stores

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 5


class StopReason(enum.Enum):
    """Why a running job was cancelled: what its last write is."""

    CANCEL = "cancel"  #: the client cancelled: the job ends cancelled
    SHUTDOWN = "shutdown"  #: the instance is stopping: the job goes back to the queue
    LOST = "lost"  #: its lease went to another worker: write nothing


@dataclass(slots=True)
class Control:
    """What the pool tells a running job; `reason` is read when the job is cancelled.
    `settled`: its last row is written, so nothing is left to stop (its lease is gone with it,
    and a cancel now would only cut the after-job steps short)."""

    reason: StopReason = StopReason.SHUTDOWN
    settled: bool = False


#: Called with a job's final row once it reached a terminal state (or was handed back).
AfterJob = Callable[[Job], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Deps:
    settings: Settings
    stores: Stores
    instance_id: str
    load: Load = field(default_factory=Load)  #: renders under way here (the pool counts them)
    after_job: Sequence[AfterJob] = ()  #: what follows every job (the estimator, metrics)
    #: ids this instance's pool claims before it pops the backlog: work a job here hands to
    #: its own instance (a split's sound, where its inputs are already staged and probed).
    #: Not pushed anywhere else meanwhile: if this instance dies first, the reconciler finds
    #: the queued row missing from the backlog and pushes it.
    claim_here: deque[JobId] = field(default_factory=deque)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobIds:
    """How a kind's jobs are named: what an id of it looks like (anything else is unknown
    without asking the store), whether the client chooses it (then a repeated submit is the
    same job, never a second one), and the error that says one does not exist."""

    pattern: re.Pattern[str]
    not_found: Callable[[str], VidsvcError]
    client_chosen: bool = False
    field: str = "id"  #: the request's field that carries a client-chosen id

    def plausible(self, job_id: str) -> bool:
        return self.pattern.fullmatch(job_id) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    """What an estimate of a just-submitted job needs to know about the queue."""

    ahead: int  #: jobs queued before it
    running: int  #: jobs rendering here now
    slots: int  #: MAX_CONCURRENT_JOBS


class Handler(Protocol):
    """One kind of work. `admit` turns a request into a queued job (raising a 4xx error);
    `run` does the claimed job and returns its fenced terminal row (None when fenced out), or
    the row still processing or queued when it handed the job off; `finished` follows any
    terminal state this instance wrote (a callback to deliver, what the estimator learns) and
    any hand-off; `estimate` guesses a just-submitted job's seconds to done (None: no guess);
    `close` gives what it still has under way `timeout` seconds when the service stops."""

    @property
    def ids(self) -> JobIds: ...

    @property
    def registry(self) -> CollectorRegistry | None:
        """The kind's own Prometheus metrics (None: it has none), which GET /metrics renders."""

    def estimate(self, job: Job, queue: Queue) -> Awaitable[float | None]: ...

    def admit(self, document: Mapping[str, Any], settings: Settings) -> Awaitable[Job]: ...

    def run(self, job: Job, deps: Deps, report: Reporter) -> Awaitable[Job | None]: ...

    def finished(self, job: Job, deps: Deps) -> Awaitable[None]: ...

    def close(self, timeout: float) -> Awaitable[None]: ...


@runtime_checkable
class Waiting(Protocol):
    """A kind whose jobs may wait on other jobs while no worker holds them (a split render's
    parent waits on its parts): `end_waiting` ends one whose cancel was just requested (what
    it waits on is cancelled, it ends cancelled) and returns its row, or None when it was not
    waiting (a worker holds it, and its heartbeat stops it)."""

    def end_waiting(self, job: Job, deps: Deps) -> Awaitable[Job | None]: ...


@runtime_checkable
class Sweeping(Protocol):
    """A kind with a backstop the reaper runs every REAPER_INTERVAL on every instance."""

    def sweep(self, deps: Deps) -> Awaitable[None]: ...


@runtime_checkable
class DryRunning(Protocol):
    """A kind of work that can try a request without a job: `dry_run` answers what `admit`
    and `run` would meet short of producing anything (a JSON plan, or their error), storing
    nothing and queueing nothing."""

    def dry_run(
        self, document: Mapping[str, Any], settings: Settings, queue: Queue
    ) -> Awaitable[dict[str, Any]]: ...


def channel(job_id: str) -> str:
    """The pub/sub channel carrying one job's events."""
    return f"vidsvc:job:{job_id}"


async def publish(deps: Deps, job: Job | None) -> None:
    """Best effort: the row is the truth, and watchers re-read it when pub/sub goes quiet."""
    if job is None:
        return
    try:
        await deps.stores.pubsub.publish(channel(job.id), JobEvent.of(job).to_json())
    except StorageError:
        log.warning("could not publish an event", extra={"job_id": job.id})


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
