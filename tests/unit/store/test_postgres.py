"""PostgreSQL specifics beyond the contract: outages and hangs, row locks, native column types,
error mapping and the :name → $n numbering. Needs the tests.support.pg_server plugin."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.jobs import make_job
from tests.support.pg_server import PgServer
from tests.support.ports import free_port
from vidsvc.errors import StorageError
from vidsvc.jobs import Job, JobState, Progress
from vidsvc.store.postgres import PostgresJobStore, numbered

FAST = 3.0  # seconds: "quickly" for a call against a server that is down


@pytest.fixture
async def dsn(pg_server: PgServer) -> str:
    """A migrated database with no rows."""
    return await pg_server.clean_database()


@pytest.fixture
async def store(dsn: str) -> AsyncIterator[PostgresJobStore]:
    store = await PostgresJobStore.open(dsn, pool_size=4)
    yield store
    await store.aclose()


@pytest.fixture
async def raw(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of our own: another instance, or an operator at psql."""
    conn = await asyncpg.connect(dsn)
    yield conn
    await conn.close()


async def claimed(store: PostgresJobStore, n: int = 0) -> Job:
    job = await store.create(make_job(n))
    got = await store.claim(job.id, owner="w", lease_s=600)
    assert got is not None and got.lease is not None
    return got


def test_parameters_are_numbered_in_order_of_first_use() -> None:
    query = numbered("-- why: :not_me\nSELECT :b, :a::text, x::int, :b\nWHERE y = 'a: b'")
    assert query.sql == "SELECT $1, $2::text, x::int, $1\nWHERE y = 'a: b'"
    assert query.names == ("b", "a")
    assert query.args({"a": 1, "b": 2, "extra": 3}) == (2, 1)


# --- outages: fail fast, recover alone ----------------------------------------------------------


def calls(store: PostgresJobStore, job: Job) -> dict[str, Callable[[], Awaitable[Any]]]:
    """One call of every JobStore method, as the runner and the HTTP layer make them."""
    token = job.lease.token if job.lease else ""
    return {
        "create": lambda: store.create(make_job(9)),
        "get": lambda: store.get(job.id),
        "list": lambda: store.list(),
        "count": lambda: store.count(JobState.QUEUED),
        "queued_ids": lambda: store.queued_ids(),
        "claim": lambda: store.claim(job.id, owner="w", lease_s=30),
        "claim_next": lambda: store.claim_next(owner="w", lease_s=30),
        "renew": lambda: store.renew(job.id, token, 600),
        "record_progress": lambda: store.record_progress(job.id, token, Progress(percentage=5)),
        "finish": lambda: store.finish(job.id, "stale", JobState.FAILED),
        "requeue": lambda: store.requeue(job.id, "stale"),
        "cancel": lambda: store.cancel("comp_unknown"),
        "reap_expired": lambda: store.reap_expired(job.created_at),
        "record_metrics": lambda: store.record_metrics(job.id, {"cpu_time": 1}),
        "ping": lambda: store.ping(),
    }


async def all_fail_fast(store: PostgresJobStore, job: Job) -> None:
    for name, call in calls(store, job).items():
        started = time.monotonic()
        with pytest.raises(StorageError):
            await call()
        assert time.monotonic() - started < FAST, name


async def test_server_down_fails_fast_then_recovers_without_reopening(
    pg_server: PgServer, store: PostgresJobStore
) -> None:
    if not pg_server.controllable:
        pytest.skip("an external server (VIDSVC_TEST_DATABASE_URL) cannot be stopped")
    job = await claimed(store)
    await asyncio.to_thread(pg_server.stop)
    try:
        await all_fail_fast(store, job)
    finally:
        await asyncio.to_thread(pg_server.start)
    # RELIABILITY D4: a new query succeeds within 2 s of PostgreSQL being ready.
    deadline = time.monotonic() + 2
    while True:
        try:
            await store.ping()
            break
        except StorageError:
            assert time.monotonic() < deadline, "the pool did not reconnect"
            await asyncio.sleep(0.05)
    # The committed lease survived the restart: the worker keeps its job (no lock was lost).
    assert job.lease is not None
    assert await store.renew(job.id, job.lease.token, 600)
    results = await asyncio.gather(*(store.get(job.id) for _ in range(8)))  # every connection
    assert all(r is not None and r.state is JobState.PROCESSING for r in results)
    done = await store.finish(job.id, job.lease.token, JobState.COMPLETED, output_key="o/x.mp4")
    assert done is not None and done.attempts == 1


def cluster_pids(server: PgServer) -> list[int]:
    """The postmaster and its children (backends, checkpointer…): what SIGSTOP must freeze."""
    assert server.data_dir is not None
    head = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    pids = [head]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == head:  # the field after the state is the parent's pid
            pids.append(int(stat.parent.name))
    return pids


@contextmanager
def frozen(server: PgServer) -> Iterator[None]:
    """A server that accepts TCP but never answers (a partition, a stuck host)."""
    pids = cluster_pids(server)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


async def test_a_server_that_never_answers_times_out(pg_server: PgServer, dsn: str) -> None:
    if not pg_server.controllable:
        pytest.skip("an external server (VIDSVC_TEST_DATABASE_URL) cannot be frozen")
    store = await PostgresJobStore.open(dsn, pool_size=2, connect_timeout_s=1, command_timeout_s=1)
    try:
        job = await store.create(make_job())
        with frozen(pg_server):
            for _ in range(2):  # the busy connection first, then a new connect
                started = time.monotonic()
                with pytest.raises(StorageError):
                    await store.get(job.id)
                assert time.monotonic() - started < 2 * FAST
        assert await store.get(job.id) == job
    finally:
        await store.aclose()


async def test_an_unreachable_server_at_open_is_a_storage_error(pg_dsn: str) -> None:
    started = time.monotonic()
    with pytest.raises(StorageError):
        await PostgresJobStore.open(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    with pytest.raises(StorageError):
        await PostgresJobStore.open(pg_dsn.rsplit("/", 1)[0] + "/vidsvc_no_such_database")
    assert time.monotonic() - started < FAST


async def test_closed_store_is_a_storage_error(dsn: str) -> None:
    store = await PostgresJobStore.open(dsn, pool_size=1)
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(StorageError):
        await store.get("comp_x")


async def test_a_broken_statement_is_a_storage_error_and_the_pool_survives(
    store: PostgresJobStore,
) -> None:
    job = await store.create(make_job())
    store._q = {**store._q, "claim": numbered("UPDATE compositions SET nope = 1")}
    with pytest.raises(StorageError):
        await store.claim(job.id, owner="w", lease_s=30)
    assert await store.get(job.id) == job


async def test_cancelled_calls_leave_the_pool_usable(store: PostgresJobStore) -> None:
    for n in range(30):
        await store.create(make_job(n))
    for i in range(20):
        task = asyncio.create_task(store.claim_next(owner="w", lease_s=30))
        for _ in range(i % 6):  # cancel at a different point of acquire … fetch … release
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    got = await store.claim_next(owner="w", lease_s=30)
    assert got is not None and got.state is JobState.PROCESSING
    processing = await store.count(JobState.PROCESSING)
    assert processing + await store.count(JobState.QUEUED) == 30


async def test_the_pool_holds_one_to_pool_size_connections(dsn: str) -> None:
    store = await PostgresJobStore.open(dsn, pool_size=3)
    try:
        assert store._pool is not None
        assert (store._pool.get_min_size(), store._pool.get_max_size()) == (1, 3)
        await asyncio.gather(*(store.count(JobState.QUEUED) for _ in range(20)))
        assert store._pool.get_size() <= 3
    finally:
        await store.aclose()


# --- the row is the lock, and only for one statement ---------------------------------------------


async def test_a_claim_holds_no_row_lock_after_it_returns(
    store: PostgresJobStore, raw: asyncpg.Connection
) -> None:
    job = await claimed(store)
    async with raw.transaction():  # NOWAIT: raises at once if any lock were still held
        await raw.execute("SELECT 1 FROM compositions WHERE id = $1 FOR UPDATE NOWAIT", job.id)


async def test_claim_next_skips_a_row_locked_elsewhere(
    store: PostgresJobStore, raw: asyncpg.Connection
) -> None:
    first = await store.create(make_job(0))
    second = await store.create(make_job(1))
    async with raw.transaction():
        await raw.execute("SELECT 1 FROM compositions WHERE id = $1 FOR UPDATE", first.id)
        got = await asyncio.wait_for(store.claim_next(owner="w", lease_s=30), FAST)
        assert got is not None and got.id == second.id
        assert await store.claim_next(owner="w", lease_s=30) is None
    again = await store.claim_next(owner="w", lease_s=30)
    assert again is not None and again.id == first.id


async def test_reapers_skip_a_row_locked_elsewhere(
    store: PostgresJobStore, raw: asyncpg.Connection
) -> None:
    busy, idle = await claimed(store, 0), await claimed(store, 1)
    later = busy.created_at.replace(year=2100)  # both leases look expired
    async with raw.transaction():  # a renew or finish in flight, or another reaper
        await raw.execute("SELECT 1 FROM compositions WHERE id = $1 FOR UPDATE", busy.id)
        got = await asyncio.wait_for(store.reap_expired(later), FAST)
        assert [j.id for j in got] == [idle.id]
    (rest,) = await store.reap_expired(later)
    assert rest.id == busy.id and rest.state is JobState.QUEUED


# --- native types --------------------------------------------------------------------------------


async def test_json_is_jsonb_objects_and_times_are_timestamptz(
    store: PostgresJobStore, raw: asyncpg.Connection
) -> None:
    job = await claimed(store)
    assert job.lease is not None
    await store.record_progress(job.id, job.lease.token, Progress(percentage=7))
    row = await raw.fetchrow(
        "SELECT jsonb_typeof(config) AS c, jsonb_typeof(metadata) AS m,"
        " (progress ->> 'percentage')::float8 AS pct, created_at, lease_expires_at > created_at AS"
        " later FROM compositions WHERE id = $1",
        job.id,
    )
    assert row is not None
    assert (row["c"], row["m"], row["pct"], row["later"]) == ("object", "object", 7.0, True)
    assert row["created_at"] == job.created_at


async def test_characters_postgresql_cannot_store_are_a_value_error(
    store: PostgresJobStore,
) -> None:
    # jsonb and text refuse U+0000; that is the caller's data, not an outage.
    with pytest.raises(ValueError):
        await store.create(make_job(payload={"title": "a\x00b"}))
    with pytest.raises(ValueError):
        await store.create(make_job(user_id="u\x00"))
    assert await store.count(JobState.QUEUED) == 0
