"""Store fixtures: one parametrized fixture per protocol, over every implementation.

A new backend (postgres, redis, s3) joins a contract suite by adding a param here and a branch
that opens it; the suites themselves never name an implementation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.store_backends import JobBackend, PubSubBackend
from vidsvc.store.base import Backlog, BlobStore, JobStore, TemplateStore
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.memory import MemoryBacklog, MemoryBlobStore, MemoryJobStore, MemoryPubSub
from vidsvc.store.memory_templates import MemoryTemplateStore
from vidsvc.store.sqlite import SqliteJobStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def job_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobBackend]:
    opened: list[JobStore] = []
    if request.param == "memory":
        memory = MemoryJobStore()

        async def another() -> JobStore:
            return memory

    elif request.param == "sqlite":

        async def another() -> JobStore:
            store = await SqliteJobStore.open(tmp_path / "jobs.db")
            opened.append(store)
            return store

    else:  # the session's migrated database, emptied (tests/support/pg_server.py)
        from vidsvc.store.postgres import PostgresJobStore

        dsn = await request.getfixturevalue("pg_server").clean_database()

        async def another() -> JobStore:
            store = await PostgresJobStore.open(dsn, pool_size=4)
            opened.append(store)
            return store

    backend = JobBackend(request.param, await another(), another, opened)
    yield backend
    for store in opened:
        await store.aclose()


@pytest.fixture
def jobs(job_backend: JobBackend) -> JobStore:
    return job_backend.store


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def templates(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[TemplateStore]:
    """A TemplateStore; the SQL ones on their job store's connection, as open_stores makes
    them."""
    if request.param == "memory":
        yield MemoryTemplateStore()
        return
    store: SqliteJobStore | PostgresJobStore
    if request.param == "sqlite":
        store = await SqliteJobStore.open(tmp_path / "jobs.db")
    else:
        from vidsvc.store.postgres import PostgresJobStore

        dsn = await request.getfixturevalue("pg_server").clean_database()
        store = await PostgresJobStore.open(dsn, pool_size=4)
    yield store.templates()
    await store.aclose()


@pytest.fixture(params=["memory", "disk", "s3"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    store: BlobStore
    if request.param == "memory":
        store = MemoryBlobStore()
    elif request.param == "disk":
        store = LocalBlobStore(tmp_path / "blobs")
    else:  # a fresh bucket on moto's server (tests/support/s3_server.py) or VIDSVC_TEST_S3_URL
        from vidsvc.store.s3 import S3BlobStore

        store = await S3BlobStore.open(request.getfixturevalue("s3_bucket").settings())
    yield store
    await store.aclose()


@pytest.fixture(params=["memory", "redis"])
async def pubsub_backend(request: pytest.FixtureRequest) -> AsyncIterator[PubSubBackend]:
    pubsub: MemoryPubSub | RedisPubSub
    if request.param == "memory":
        pubsub = MemoryPubSub(limit=64)
    else:  # the redis_* fixtures come from the tests.support.redis_server plugin
        from vidsvc.store.redis import RedisPubSub

        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        pubsub = await RedisPubSub.open(url, prefix=prefix, limit=64)
    yield PubSubBackend(pubsub, pubsub.subscriber_count)
    await pubsub.aclose()


@pytest.fixture(params=["memory", "redis"])
async def backlog(request: pytest.FixtureRequest) -> AsyncIterator[Backlog]:
    store: Backlog
    if request.param == "memory":
        store = MemoryBacklog()
    else:
        from vidsvc.store.redis import RedisBacklog

        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        store = await RedisBacklog.open(url, prefix=prefix)
    yield store
    await store.aclose()
