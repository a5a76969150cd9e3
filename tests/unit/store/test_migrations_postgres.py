"""PostgreSQL migrations: schema from empty, idempotence, concurrent start-up under the advisory
lock, rollback of a failing file, and the named queries: the same names and parameters as
SQLite's, each one prepared against the migrated schema. Needs the tests.support.pg_server plugin.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.migrations import COMPOSITION_COLUMNS, INDEXES, TABLES, VERSIONS
from vidsvc.errors import StorageError
from vidsvc.store import migrate
from vidsvc.store.migrate import Migration, load_migrations, migrate_postgres
from vidsvc.store.postgres import PostgresJobStore, numbered
from vidsvc.store.sql import load_queries

JSON_COLUMNS = {"config", "progress", "error", "metadata"}
TIME_COLUMNS = {"lease_expires_at", "created_at", "updated_at", "started_at", "finished_at"}


@pytest.fixture
async def conn(pg_database: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_database)
    yield conn
    await conn.close()


async def schema(conn: asyncpg.Connection) -> tuple[set[str], dict[str, list[str]]]:
    tables = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    indexes = await conn.fetch(
        """SELECT i.relname AS name, array_agg(a.attname ORDER BY k.n) AS columns
           FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_namespace s ON s.oid = i.relnamespace AND s.nspname = 'public'
           CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
           WHERE NOT x.indisprimary
           GROUP BY i.relname"""
    )
    return {r["table_name"] for r in tables}, {r["name"]: list(r["columns"]) for r in indexes}


async def test_migrate_empty_creates_tables_indexes_and_native_types(
    conn: asyncpg.Connection,
) -> None:
    assert await migrate_postgres(conn) == VERSIONS
    tables, indexes = await schema(conn)
    assert tables == TABLES
    assert indexes == INDEXES  # the same names and columns as SQLite's
    columns = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = 'compositions' ORDER BY ordinal_position"
    )
    assert [c["column_name"] for c in columns] == COMPOSITION_COLUMNS
    types = {c["column_name"]: c["data_type"] for c in columns}
    assert {types[c] for c in JSON_COLUMNS} == {"jsonb"}
    assert {types[c] for c in TIME_COLUMNS} == {"timestamp with time zone"}
    desc = await conn.fetchval("SELECT pg_get_indexdef('ix_compositions_created_at'::regclass)")
    assert desc.endswith("(created_at DESC)")


async def test_second_run_is_a_no_op(conn: asyncpg.Connection) -> None:
    await migrate_postgres(conn)
    before = await schema(conn)
    assert await migrate_postgres(conn) == []
    assert await schema(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(VERSIONS)


async def migrate_with(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate_postgres(conn)
    finally:
        await conn.close()


@pytest.mark.parametrize("round_", range(3))
async def test_four_instances_starting_together_apply_each_version_once(
    pg_database: str, round_: int
) -> None:
    """Without the advisory lock, racing CREATE TABLEs fail or run a file twice."""
    results = await asyncio.gather(*(migrate_with(pg_database) for _ in range(4)))
    assert sorted(v for applied in results for v in applied) == VERSIONS


async def test_four_stores_opening_together_share_one_schema(pg_database: str) -> None:
    stores = await asyncio.gather(*(PostgresJobStore.open(pg_database) for _ in range(4)))
    try:
        await asyncio.gather(*(s.ping() for s in stores))
    finally:
        await asyncio.gather(*(s.aclose() for s in stores))


async def test_a_pool_is_accepted(pg_database: str) -> None:
    pool = await asyncpg.create_pool(pg_database, min_size=1, max_size=2)
    try:
        assert await migrate_postgres(pool) == VERSIONS
        assert await migrate_postgres(pool) == []
    finally:
        await pool.close()


async def test_a_failing_migration_rolls_back(
    conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate_postgres(conn)
    bad = Migration(version="9999", name="bad", sql="CREATE TABLE half (x int); SELECT nope();")
    monkeypatch.setattr(migrate, "load_migrations", lambda d: (*load_migrations(d), bad))
    with pytest.raises(StorageError):
        await migrate_postgres(conn)
    tables, _ = await schema(conn)
    assert "half" not in tables
    versions = await conn.fetch("SELECT version FROM schema_migrations")
    assert [r["version"] for r in versions] == VERSIONS


def test_both_dialects_have_the_same_migrations() -> None:
    postgres = [(m.version, m.name) for m in load_migrations("postgres")]
    assert postgres == [(m.version, m.name) for m in load_migrations("sqlite")]


def _sqlite_params(sql: str) -> set[str]:
    return set(re.findall(r"(?<![:\w]):([a-z_][a-z0-9_]*)", re.sub(r"--.*", "", sql)))


def test_both_queries_files_define_the_same_names_and_parameters() -> None:
    sqlite, postgres = load_queries("sqlite"), load_queries("postgres")
    assert set(postgres) == set(sqlite)
    for name, sql in postgres.items():
        assert set(numbered(sql).names) == _sqlite_params(sqlite[name]), name


async def test_every_named_query_prepares_against_the_schema(conn: asyncpg.Connection) -> None:
    """PREPARE checks tables, columns and that every parameter's type can be inferred."""
    await migrate_postgres(conn)
    for name, sql in load_queries("postgres").items():
        query = numbered(sql)
        statement = await conn.prepare(query.sql)
        assert len(statement.get_parameters()) == len(query.names), name
