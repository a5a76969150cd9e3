"""0003_any_kind: the store no longer lists the kinds of job. On a database that holds jobs and
their metrics, the migration keeps every row (SQLite rebuilds the table: a cascade would take
the metrics), keeps the other CHECKs, and then takes a row of a kind it has never heard of."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import asyncpg
import pytest

from vidsvc.store import migrate
from vidsvc.store.migrate import load_migrations, migrate_postgres, migrate_sqlite

ROW = (
    "INSERT INTO compositions (id, kind, config, progress, created_at, updated_at) "
    "VALUES ('{id}', '{kind}', '{{}}', '{{\"stage\": \"queued\"}}', '2026-01-01', '2026-01-01')"
)
METRIC = "INSERT INTO job_metrics (job_id, job_type, created_at) VALUES ('{id}', 'render', 'now')"


async def test_sqlite_keeps_jobs_and_metrics_and_takes_any_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v.db"
    every = load_migrations("sqlite")
    monkeypatch.setattr(migrate, "load_migrations", lambda _: every[:2])
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("PRAGMA foreign_keys = ON")  # as the store opens it
        assert await migrate_sqlite(conn) == ["0001", "0002"]
        for i in range(3):
            await conn.execute(ROW.format(id=f"comp_{i}", kind="composition"))
            await conn.execute(METRIC.format(id=f"comp_{i}"))
        monkeypatch.setattr(migrate, "load_migrations", lambda _: every[:3])  # up to 0003
        assert await migrate_sqlite(conn) == ["0003"]
        await conn.execute(ROW.format(id="beat_1", kind="beats"))
        await conn.execute(METRIC.format(id="beat_1"))
        await conn.execute("DELETE FROM compositions WHERE id = 'comp_0'")  # still cascades
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM compositions").fetchone() == (3,)
        metrics = db.execute("SELECT job_id FROM job_metrics ORDER BY job_id").fetchall()
        assert metrics == [("beat_1",), ("comp_1",), ("comp_2",)]
        with pytest.raises(sqlite3.IntegrityError):  # the state's CHECK stays
            db.execute("UPDATE compositions SET status = 'lost' WHERE id = 'beat_1'")
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


async def test_postgres_takes_any_kind(pg_database: str) -> None:
    conn = await asyncpg.connect(pg_database)
    try:
        await migrate_postgres(conn)
        row = ROW.replace("'2026-01-01'", "now()")
        await conn.execute(row.format(id="beat_1", kind="beats"))
        assert await conn.fetchval("SELECT kind FROM compositions WHERE id = 'beat_1'") == "beats"
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE compositions SET status = 'lost' WHERE id = 'beat_1'")
    finally:
        await conn.close()
