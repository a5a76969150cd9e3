"""SQLite specifics beyond the contract: connection settings, stored time format, error mapping."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.jobs import make_job
from vidsvc.errors import StorageError
from vidsvc.jobs import JobState, utcnow
from vidsvc.store.sqlite import SqliteJobStore, from_text, to_text


async def test_connection_settings(tmp_path: Path) -> None:
    store = await SqliteJobStore.open(tmp_path / "v.db")
    try:
        conn = store._conn
        assert conn is not None
        pragmas = {}
        for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
            rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
            pragmas[name] = rows[0][0]
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 5000,
            "synchronous": 2,
        }
    finally:
        await store.aclose()


async def test_times_are_sortable_utc_text(tmp_path: Path) -> None:
    store = await SqliteJobStore.open(tmp_path / "v.db")
    job = await store.create(make_job())
    await store.aclose()
    with sqlite3.connect(tmp_path / "v.db") as db:
        (created,) = db.execute("SELECT created_at FROM compositions").fetchone()
    db.close()
    assert created == "2026-01-01T12:00:00.123456Z" == to_text(job.created_at)
    whole = datetime(2026, 1, 1, tzinfo=UTC)  # no microseconds: still fixed width
    assert to_text(whole) == "2026-01-01T00:00:00.000000Z" and from_text(to_text(whole)) == whole
    stamps = [to_text(utcnow()) for _ in range(50)]
    assert stamps == sorted(stamps)


async def test_metrics_follow_their_job(tmp_path: Path) -> None:
    store = await SqliteJobStore.open(tmp_path / "v.db")
    try:
        job = await store.create(make_job())
        await store.record_metrics(job.id, {"duration_seconds": 1})
        async with store._session() as conn:  # as dev reset-user will delete a user's jobs
            await conn.execute("DELETE FROM compositions WHERE id = ?", (job.id,))
        assert await store.metrics(job.id) == []
    finally:
        await store.aclose()


async def test_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StorageError):
        await SqliteJobStore.open(tmp_path / "dir.db")


async def test_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        await SqliteJobStore.open(tmp_path / "junk.db")


async def test_closed_store_is_a_storage_error(tmp_path: Path) -> None:
    store = await SqliteJobStore.open(tmp_path / "v.db")
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(StorageError):
        await store.get("comp_x")
    with pytest.raises(StorageError):
        await store.ping()


async def test_driver_errors_inside_a_claim_roll_back(tmp_path: Path) -> None:
    store = await SqliteJobStore.open(tmp_path / "v.db")
    try:
        job = await store.create(make_job())
        store._q = {**store._q, "claim": "UPDATE compositions SET nope = 1"}
        with pytest.raises(StorageError):
            await store.claim(job.id, owner="w", lease_s=30)
        assert store._conn is not None and not store._conn.in_transaction
        assert await store.get(job.id) == job
    finally:
        await store.aclose()


async def test_memory_database(tmp_path: Path) -> None:
    store = await SqliteJobStore.open(":memory:")
    try:
        job = await store.create(make_job())
        assert await store.get(job.id) == job
    finally:
        await store.aclose()


async def test_cancelled_claims_leave_no_transaction_open(tmp_path: Path) -> None:
    store = await SqliteJobStore.open(tmp_path / "v.db")
    try:
        for n in range(30):
            await store.create(make_job(n))
        for i in range(20):
            task = asyncio.create_task(store.claim_next(owner="w", lease_s=30))
            for _ in range(i % 6):  # cancel at a different point of BEGIN … UPDATE … COMMIT
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        got = await store.claim_next(owner="w", lease_s=30)
        assert got is not None and got.state is JobState.PROCESSING
        assert store._conn is not None and not store._conn.in_transaction
        processing = await store.count(JobState.PROCESSING)
        assert processing + await store.count(JobState.QUEUED) == 30
    finally:
        await store.aclose()
