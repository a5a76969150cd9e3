"""Migrations and durability of the SQLite store: schema from empty, idempotence, named queries
that compile against it, and a committed create() surviving a SIGKILL of its process."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import aiosqlite
import pytest

from tests.support.jobs import make_job
from tests.support.migrations import COMPOSITION_COLUMNS, INDEXES, TABLES, VERSIONS
from vidsvc.errors import StorageError
from vidsvc.store import migrate
from vidsvc.store.migrate import Migration, load_migrations, migrate_sqlite
from vidsvc.store.sql import load_queries, parse_queries
from vidsvc.store.sqlite import SqliteJobStore


async def migrated(path: Path) -> list[str]:
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        return await migrate_sqlite(conn)


def schema(path: Path) -> tuple[set[str], dict[str, list[str]]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        found = rows.fetchall()
        tables = {name for kind, name in found if kind == "table"}
        indexes = {
            name: [r[2] for r in db.execute(f"PRAGMA index_info({name})")]
            for kind, name in found
            if kind == "index"
        }
    db.close()
    return tables, indexes


async def test_migrate_empty_creates_tables_and_indexes(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    assert await migrated(db) == VERSIONS
    tables, indexes = schema(db)
    assert tables == TABLES
    assert indexes == INDEXES
    with sqlite3.connect(db) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(compositions)")]
        desc = [r[3] for r in conn.execute("PRAGMA index_xinfo(ix_compositions_created_at)")]
    conn.close()
    assert columns == COMPOSITION_COLUMNS
    assert desc[0] == 1  # created_at DESC


async def test_second_run_is_a_no_op(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    await migrated(db)
    before = schema(db)
    assert await migrated(db) == []
    assert schema(db) == before


async def test_concurrent_migrators_apply_each_version_once(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    results = await asyncio.gather(*(migrated(db) for _ in range(4)))
    assert sorted(v for applied in results for v in applied) == VERSIONS


async def test_a_failing_migration_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "v.db"
    await migrated(db)
    bad = Migration(version="9999", name="bad", sql="CREATE TABLE half (x); SELECT nope();")
    monkeypatch.setattr(migrate, "load_migrations", lambda d: (*load_migrations(d), bad))
    with pytest.raises(StorageError):
        await migrated(db)
    tables, _ = schema(db)
    assert "half" not in tables
    with sqlite3.connect(db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    conn.close()
    assert versions == VERSIONS


def test_migration_files_are_numbered() -> None:
    assert [m.version for m in load_migrations("sqlite")] == VERSIONS
    with pytest.raises(ValueError):
        load_migrations("oracle")


async def test_every_named_query_compiles_against_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    await migrated(db)
    queries = load_queries("sqlite")
    with sqlite3.connect(db) as conn:
        for sql in queries.values():
            params = dict.fromkeys(re.findall(r":([a-z_]+)", sql))
            conn.execute(f"EXPLAIN {sql}", params)  # raises on a typo in a column or table
    conn.close()
    assert {"claim", "claim_next", "finish", "reap_expired", "insert_job"} <= set(queries)


def test_query_file_format() -> None:
    text = "-- header\n-- name: a\nSELECT 1;\n\n-- name: b\n-- why\nSELECT 2;\n"
    assert parse_queries(text) == {"a": "SELECT 1", "b": "-- why\nSELECT 2"}
    with pytest.raises(ValueError):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n")
    assert load_queries("sqlite") is not load_queries("sqlite")  # callers get their own copy


# --- durability ---------------------------------------------------------------------------------


async def test_created_job_survives_close_and_reopen(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    store = await SqliteJobStore.open(db)
    job = await store.create(make_job())
    await store.aclose()
    store = await SqliteJobStore.open(db)
    try:
        assert await store.get(job.id) == job
    finally:
        await store.aclose()


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from tests.support.jobs import make_job
    from vidsvc.store.sqlite import SqliteJobStore

    async def main():
        store = await SqliteJobStore.open(sys.argv[1])
        await store.create(make_job(id=sys.argv[2]))
        print("created", flush=True)
        time.sleep(60)  # blocks the loop: nothing can be flushed or closed after create()

    asyncio.run(main())
    """
)


async def test_create_is_on_disk_before_it_returns(tmp_path: Path) -> None:
    """A separate process creates a job and is SIGKILLed right after create() returns: no
    close, no checkpoint, no atexit. The row must be there when the file is reopened."""
    db, job_id = tmp_path / "v.db", "comp_" + "a" * 24
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), job_id],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 15)
        assert line.strip() == b"created"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    store = await SqliteJobStore.open(db)
    try:
        got = await store.get(job_id)
        assert got is not None and got.state.value == "queued"
    finally:
        await store.aclose()
