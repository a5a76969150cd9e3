"""Store fixtures: one parametrized fixture per protocol, over every implementation.

A new backend (postgres, redis, s3) joins a contract suite by adding a param here and a branch
that opens it; the suites themselves never name an implementation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vidsvc.jobs import Job, JobKind, JobState, new_job_id
from vidsvc.store.base import Backlog, BlobStore, JobStore, PubSub
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.memory import MemoryBacklog, MemoryBlobStore, MemoryJobStore, MemoryPubSub
from vidsvc.store.sqlite import SqliteJobStore

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def make_job(n: int = 0, **changes: Any) -> Job:
    """A queued composition created n seconds after T0 (distinct, ordered creation times)."""
    at = T0 + timedelta(seconds=n)
    values: dict[str, Any] = {
        "id": new_job_id(),
        "kind": JobKind.COMPOSITION,
        "state": JobState.QUEUED,
        "payload": {"clips": [{"url": "s3://b/a.mp4"}], "output": {"fps": 30}},
        "created_at": at,
        "updated_at": at,
    }
    values.update(changes)
    return Job(**values)


@dataclass
class JobBackend:
    """Handles on one backing job store. `another()` opens a second handle (a second SQLite
    connection, later a second pool) onto the same data, as a second instance would."""

    name: str
    store: JobStore
    another: Callable[[], Awaitable[JobStore]]
    opened: list[JobStore] = field(default_factory=list)


@pytest.fixture(params=["memory", "sqlite"])
async def job_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobBackend]:
    opened: list[JobStore] = []
    if request.param == "memory":
        memory = MemoryJobStore()

        async def another() -> JobStore:
            return memory

    else:

        async def another() -> JobStore:
            store = await SqliteJobStore.open(tmp_path / "jobs.db")
            opened.append(store)
            return store

    backend = JobBackend(request.param, await another(), another, opened)
    yield backend
    for store in opened:
        await store.aclose()


@pytest.fixture
def jobs(job_backend: JobBackend) -> JobStore:
    return job_backend.store


@pytest.fixture(params=["memory", "disk"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    store: BlobStore
    if request.param == "memory":
        store = MemoryBlobStore()
    else:
        store = LocalBlobStore(tmp_path / "blobs")
    yield store
    await store.aclose()


@dataclass
class PubSubBackend:
    pubsub: PubSub
    subscribers: Callable[[str], int]  #: how many subscriptions a channel has right now


@pytest.fixture(params=["memory"])
async def pubsub_backend(request: pytest.FixtureRequest) -> AsyncIterator[PubSubBackend]:
    pubsub = MemoryPubSub(limit=64)
    yield PubSubBackend(pubsub, pubsub.subscriber_count)
    await pubsub.aclose()


@pytest.fixture(params=["memory"])
async def backlog(request: pytest.FixtureRequest) -> AsyncIterator[Backlog]:
    store = MemoryBacklog()
    yield store
    await store.aclose()
