"""SqliteJobStore: the embedded JobStore, one SQLite file driven through aiosqlite.

Owns the connection (WAL, busy_timeout, foreign keys, synchronous=FULL so a 202 survives a power
cut) and the translation of driver errors into StorageError (the row ↔ Job codec is
sqlite_rows.py). Each state change is one named conditional UPDATE … RETURNING from
sql/sqlite/queries.sql; claims run inside BEGIN IMMEDIATE so other processes on the same file
queue behind the write lock. aiosqlite is imported lazily (only this module needs it). Imports
only vidsvc.jobs, vidsvc.errors and store.{rules,sql,migrate,sqlite_rows,sql_templates,
sql_callbacks,callback_events}; never runner, graph or http.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidsvc.errors import StorageError
from vidsvc.jobs import Job, JobError, JobId, JobState, Progress, new_token, utcnow
from vidsvc.store import rules
from vidsvc.store.callback_events import CallbackEvent
from vidsvc.store.migrate import migrate_sqlite
from vidsvc.store.sql import load_queries
from vidsvc.store.sql_callbacks import SqlCallbacks
from vidsvc.store.sql_reads import SqlReads
from vidsvc.store.sql_templates import SqlTemplates
from vidsvc.store.sqlite_rows import (
    asdict_progress,
    from_text,
    job_of,
    job_params,
    json_text,
    to_text,
)

if TYPE_CHECKING:
    import aiosqlite

BUSY_TIMEOUT_MS = 5000


def _probe(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(path).close()


def _metrics_of(row: dict[str, Any]) -> dict[str, Any]:
    return row | {
        "ffmpeg_stats": json.loads(row["ffmpeg_stats"]),
        "created_at": from_text(row["created_at"]),
    }


async def _open_reader(where: str) -> aiosqlite.Connection:
    import aiosqlite

    reader = await aiosqlite.connect(where, isolation_level=None)
    reader.row_factory = sqlite3.Row
    for pragma in ("query_only = ON", f"busy_timeout = {BUSY_TIMEOUT_MS}"):
        await reader.execute(f"PRAGMA {pragma}")
    return reader


class SqliteJobStore(SqlReads, SqlCallbacks):
    """Open with `await SqliteJobStore.open(path)`: connects, configures and migrates."""

    def __init__(
        self, conn: aiosqlite.Connection, path: str, reader: aiosqlite.Connection | None = None
    ) -> None:
        self._conn: aiosqlite.Connection | None = conn
        # Reads on a second connection: WAL lets them run beside a write, so a GET never waits
        # for another job's progress commit and its fsync (measured: p99 of GETs under five
        # renders 129-183 ms on one connection, beside 44-60 ms for /health, which reads none).
        self._reader = reader
        self._q = load_queries("sqlite")
        # One connection: statements of different coroutines must not land inside another's
        # BEGIN IMMEDIATE … COMMIT, so every use of it takes this lock.
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path | str) -> SqliteJobStore:
        import aiosqlite

        where = str(path)
        try:
            if where != ":memory:":
                # A plain open first: when aiosqlite's own connect fails, it leaves its worker
                # thread to report to an event loop that may be closed by then.
                await asyncio.to_thread(_probe, Path(where))
            conn = await aiosqlite.connect(where, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open SQLite database {where}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
                await conn.execute(f"PRAGMA {pragma}")
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await migrate_sqlite(conn)
            reader = None if where == ":memory:" else await _open_reader(where)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"cannot open SQLite database {where}: {exc}") from exc
            raise
        return cls(conn, where, reader)

    @asynccontextmanager
    async def _session(self, *, immediate: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """The connection under the lock, optionally in BEGIN IMMEDIATE (committed on success,
        rolled back on any error or cancellation); driver errors leave as StorageError."""
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise StorageError("the job store is closed")
            try:
                if immediate:
                    await conn.execute("BEGIN IMMEDIATE")
                yield conn
                if immediate:
                    await conn.execute("COMMIT")
            except BaseException as exc:
                if immediate:  # queued behind any statement still running; a no-op if none open
                    with suppress(sqlite3.Error):
                        await conn.rollback()
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(f"SQLite: {exc}") from exc
                raise

    async def _read(self, name: str, params: Mapping[str, Any]) -> list[sqlite3.Row]:
        reader = self._reader
        if reader is None:  # an in-memory database has no second connection
            return await self._rows(name, params)
        try:
            return list(await reader.execute_fetchall(self._q[name], params))
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite: {exc}") from exc
        except ValueError as exc:  # aiosqlite: the reader was closed under us
            raise StorageError("the job store is closed") from exc

    async def _rows(self, name: str, params: Mapping[str, Any], **kw: bool) -> list[sqlite3.Row]:
        async with self._session(**kw) as conn:
            return list(await conn.execute_fetchall(self._q[name], params))

    def _job(self, row: Any) -> Job:
        return job_of(row)

    def templates(self) -> SqlTemplates:
        """The TemplateStore on this store's connections (writes under its lock)."""
        return SqlTemplates(write=self._rows, read=self._read, time_in=to_text, time_out=from_text)

    def _stamp(self, value: datetime) -> str:
        return to_text(value)

    def _instant(self, value: Any) -> datetime:
        return from_text(value)

    async def create(self, job: Job, *, callback: CallbackEvent | None = None) -> Job:
        params = job_params(job)
        # with its webhook event: one transaction, both rows or neither
        async with self._session(immediate=callback is not None) as conn:
            try:
                rows = await conn.execute_fetchall(self._q["insert_job"], params)
                if callback is not None:
                    event = self._callback_params(callback)
                    await conn.execute_fetchall(self._q["insert_callback"], event)
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc):
                    raise ValueError(f"job {job.id} already exists") from None
                raise ValueError(f"job {job.id} refused by the schema: {exc}") from None
        return job_of(next(iter(rows)))

    def _claim_params(self, owner: str, lease_s: float) -> dict[str, Any]:
        now = utcnow()
        expires = to_text(now + timedelta(seconds=lease_s))
        return {"owner": owner, "token": new_token(), "expires_at": expires, "now": to_text(now)}

    async def claim(self, job_id: JobId, *, owner: str, lease_s: float) -> Job | None:
        params = {**self._claim_params(owner, lease_s), "id": job_id}
        return await self._one("claim", params, immediate=True)

    async def claim_next(self, *, owner: str, lease_s: float) -> Job | None:
        return await self._one("claim_next", self._claim_params(owner, lease_s), immediate=True)

    async def renew(self, job_id: JobId, token: str, lease_s: float) -> bool:
        expires = to_text(utcnow() + timedelta(seconds=lease_s))
        params = {"id": job_id, "token": token, "expires_at": expires}
        return bool(await self._rows("renew", params))

    async def record_progress(self, job_id: JobId, token: str, progress: Progress) -> Job | None:
        rules.next_percentage(0.0, progress.percentage)  # refuses NaN before SQL sees it
        params = {"id": job_id, "token": token, "now": to_text(utcnow())}
        return await self._one("record_progress", {**params, **asdict_progress(progress)})

    async def finish(
        self,
        job_id: JobId,
        token: str,
        state: JobState,
        *,
        error: JobError | None = None,
        output_key: str | None = None,
        thumbnail_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        cache_key: str | None = None,
    ) -> Job | None:
        rules.check_terminal(state)
        params: dict[str, Any] = {"id": job_id, "token": token, "status": state.value}
        params |= {"error": error and json_text(error.to_dict()), "metadata": None}
        params |= {"output_key": output_key, "thumbnail_key": thumbnail_key}
        params["cache_key"] = cache_key
        async with self._session(immediate=True) as conn:
            if metadata:
                fenced = list(await conn.execute_fetchall(self._q["fenced_metadata"], params))
                if not fenced:
                    return None
                merged = rules.merge_metadata(json.loads(fenced[0][0]), metadata)
                params["metadata"] = json_text(merged)
            params["now"] = to_text(utcnow())
            rows = list(await conn.execute_fetchall(self._q["finish"], params))
        return job_of(rows[0]) if rows else None

    async def requeue(self, job_id: JobId, token: str) -> Job | None:
        params = {"id": job_id, "token": token, "now": to_text(utcnow())}
        return await self._one("requeue", params)

    async def cancel(self, job_id: JobId) -> Job | None:
        changed = await self._one("cancel", {"id": job_id, "now": to_text(utcnow())})
        return changed or await self.get(job_id)

    async def reap_expired(self, now: datetime) -> builtins.list[Job]:
        params = {"expired_before": to_text(now), "now": to_text(utcnow())}
        jobs = [job_of(r) for r in await self._rows("reap_expired", params)]
        return sorted(jobs, key=lambda j: (j.created_at, j.id))

    async def annotate(self, job_id: JobId, metadata: Mapping[str, Any]) -> Job | None:
        params: dict[str, Any] = {"id": job_id, "now": to_text(utcnow())}
        async with self._session(immediate=True) as conn:
            old = list(await conn.execute_fetchall(self._q["job_metadata"], params))
            if not old:
                return None
            params["metadata"] = json_text(rules.merge_metadata(json.loads(old[0][0]), metadata))
            rows = list(await conn.execute_fetchall(self._q["annotate"], params))
        return job_of(rows[0]) if rows else None

    async def delete_user(self, user_id: str) -> builtins.list[Job]:
        rows = await self._rows("delete_user", {"user_id": user_id}, immediate=True)
        return sorted((job_of(r) for r in rows), key=lambda j: (j.created_at, j.id))

    async def record_metrics(self, job_id: JobId, metrics: Mapping[str, Any]) -> None:
        row = rules.metrics_row(metrics)
        row |= {"job_id": job_id, "now": to_text(utcnow())}
        row["ffmpeg_stats"] = json_text(row["ffmpeg_stats"])
        await self._rows("insert_metrics", row)

    async def metrics(self, job_id: JobId) -> builtins.list[dict[str, Any]]:
        """The job_metrics rows of a job, oldest first (not in the protocol yet)."""
        rows = await self._rows("list_metrics", {"job_id": job_id})
        return [_metrics_of(dict(r)) for r in rows]

    async def ping(self) -> None:
        await self._rows("ping", {})

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            async with self._lock:
                await conn.close()
