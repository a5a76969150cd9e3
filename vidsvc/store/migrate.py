"""Schema migrations: `sql/<dialect>/migrations/NNNN_name.sql`, applied in order, each once.

Applied versions are rows of `schema_migrations`; each migration runs in its own transaction with
its version row, so a crash leaves it either applied and recorded or not at all. The discovery and
ordering below are dialect-free; a driver adds one `migrate_<dialect>(conn)` (PostgreSQL: the same
loop under `pg_advisory_xact_lock`, so that instances starting together apply each file once).
Imports only vidsvc.errors and store.sql; never runner, graph or http.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vidsvc.errors import StorageError
from vidsvc.store.sql import dialect_dir

if TYPE_CHECKING:
    import aiosqlite
    import asyncpg

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

SQLITE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""

POSTGRES_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL
)"""

#: The pg_advisory_xact_lock key every vidsvc migrator takes: any constant shared by all
#: instances works; this one is b"vidsvc" as a number, unlikely to be another program's key.
POSTGRES_LOCK_KEY = int.from_bytes(b"vidsvc", "big")
#: Per statement, for the lock wait and the DDL: a migration may rewrite a large table, which the
#: pool's per-statement timeout (sized for requests) would cut short at every start.
POSTGRES_TIMEOUT_S = 900.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    version: str  #: "0001": the sort key and the schema_migrations primary key
    name: str  #: "init"
    sql: str


def load_migrations(dialect: str) -> tuple[Migration, ...]:
    """Every migration of a dialect in version order. A stray file name is an error, because a
    typo would otherwise silently skip a schema change."""
    found: dict[str, Migration] = {}
    for entry in dialect_dir(dialect).joinpath("migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if match is None:
            raise ValueError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        version, name = match.groups()
        if version in found:
            raise ValueError(f"migration version {version} appears twice")
        found[version] = Migration(version=version, name=name, sql=entry.read_text("utf-8"))
    return tuple(found[v] for v in sorted(found))


def pending(migrations: Iterable[Migration], applied: Iterable[str]) -> list[Migration]:
    done = set(applied)
    return [m for m in migrations if m.version not in done]


async def migrate_sqlite(conn: aiosqlite.Connection) -> list[str]:
    """Apply the pending SQLite migrations; returns the versions applied by this call.

    The connection must be in autocommit mode (isolation_level=None), as SqliteJobStore's is.
    """
    try:
        await conn.execute(SQLITE_TABLE)
        applied_now = []
        for migration in pending(load_migrations("sqlite"), await _applied_sqlite(conn)):
            if await _apply_sqlite(conn, migration):
                applied_now.append(migration.version)
        return applied_now
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite migration failed: {exc}") from exc


async def _applied_sqlite(conn: aiosqlite.Connection) -> list[str]:
    rows = await conn.execute_fetchall("SELECT version FROM schema_migrations")
    return [str(row[0]) for row in rows]


async def _apply_sqlite(conn: aiosqlite.Connection, migration: Migration) -> bool:
    """One migration in one transaction; False when another connection applied it first.

    The version row is inserted before the DDL: a second process migrating at the same moment
    waits on BEGIN IMMEDIATE, then fails on that row's primary key instead of running the DDL
    again. (executescript cannot bind parameters; version and name match _FILE.)
    """
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    script = (
        "BEGIN IMMEDIATE;\n"
        f"INSERT INTO schema_migrations (version, name, applied_at) "
        f"VALUES ('{migration.version}', '{migration.name}', '{stamp}');\n"
        f"{migration.sql}\n;\nCOMMIT;"
    )
    try:
        await conn.executescript(script)
    except sqlite3.IntegrityError:
        await conn.rollback()
        if migration.version in await _applied_sqlite(conn):
            return False
        raise
    except BaseException:
        await conn.rollback()
        raise
    return True


async def migrate_postgres(pool_or_conn: asyncpg.Pool | asyncpg.Connection) -> list[str]:
    """Apply the pending PostgreSQL migrations; returns the versions applied by this call.

    Takes an asyncpg pool (one connection is borrowed) or a connection outside a transaction.
    Driver errors leave as StorageError.
    """
    import asyncpg

    try:
        if isinstance(pool_or_conn, asyncpg.Pool):
            async with pool_or_conn.acquire() as conn:
                return await _migrate_postgres(conn)
        return await _migrate_postgres(pool_or_conn)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        raise StorageError(f"PostgreSQL migration failed: {exc!r}") from exc


async def _migrate_postgres(conn: asyncpg.Connection) -> list[str]:
    applied_now = []
    for migration in load_migrations("postgres"):
        if await _apply_postgres(conn, migration):
            applied_now.append(migration.version)
    return applied_now


async def _apply_postgres(conn: asyncpg.Connection, migration: Migration) -> bool:
    """One migration in one transaction; False when it was applied already.

    Everything, the bookkeeping table included, happens under the advisory lock: a second
    instance starting at the same moment waits for our commit, then finds the version row.
    (Two racing CREATE TABLE IF NOT EXISTS can otherwise both fail on a catalog unique index.)
    """
    async with conn.transaction():
        lock = "SELECT pg_advisory_xact_lock($1)"
        await conn.execute(lock, POSTGRES_LOCK_KEY, timeout=POSTGRES_TIMEOUT_S)
        await conn.execute(POSTGRES_TABLE)
        done = "SELECT 1 FROM schema_migrations WHERE version = $1"
        if await conn.fetchval(done, migration.version) is not None:
            return False
        # No arguments: the simple query protocol, which runs a file of many statements.
        await conn.execute(migration.sql, timeout=POSTGRES_TIMEOUT_S)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            migration.version,
            migration.name,
            datetime.now(UTC),
        )
    return True
