"""PostgresJobStore: the production JobStore, on an asyncpg connection pool (PostgreSQL 15+).

Owns the pool and its timeouts and the translation of driver errors into StorageError (the
row ↔ Job codec is postgres_rows.py). Each state change is one named conditional UPDATE …
RETURNING of sql/postgres/queries.sql, one statement that commits alone: no row lock outlives a
call. While the server is away every call fails fast with StorageError, and the pool reconnects
by itself. asyncpg is imported lazily. Imports only vidsvc.jobs, vidsvc.errors and
store.{rules,sql,migrate,postgres_rows,sql_templates,sql_callbacks,callback_events}; never
runner, graph or http.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from vidsvc.errors import StorageError
from vidsvc.jobs import Job, JobError, JobId, JobState, Progress, new_token, utcnow
from vidsvc.store import rules
from vidsvc.store.callback_events import CallbackEvent
from vidsvc.store.migrate import migrate_postgres
from vidsvc.store.postgres_rows import job_of, job_params, json_text, progress_doc
from vidsvc.store.sql import load_queries
from vidsvc.store.sql_callbacks import SqlCallbacks
from vidsvc.store.sql_reads import SqlReads
from vidsvc.store.sql_templates import SqlTemplates

if TYPE_CHECKING:
    import asyncpg

CONNECT_TIMEOUT_S = 5.0  # a server that accepts nothing must not stall a request for minutes
COMMAND_TIMEOUT_S = 10.0  # per statement; every statement here touches a handful of rows
CLOSE_TIMEOUT_S = 5.0

# :name, but not the second half of a ::cast (nor a word:word inside one).
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"^\s*--.*$\n?", re.MULTILINE)


class Query(NamedTuple):
    """A named query numbered for asyncpg: `sql` says $1…$n where the file said :name."""

    sql: str
    names: tuple[str, ...]  #: names[i] is the parameter $i+1

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(params[name] for name in self.names)


def numbered(sql: str) -> Query:
    """Replace :name parameters by $1, $2… in order of first use (a repeat reuses its number).
    Comment lines go first, so a colon in a comment never becomes a parameter."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return Query(_PARAM.sub(number, _COMMENT.sub("", sql)), tuple(names))


def driver_errors() -> tuple[type[BaseException], ...]:
    """What asyncpg raises when the server is down, slow, restarting or refuses a statement."""
    import asyncpg
    from asyncpg.exceptions import InternalClientError as Internal

    return (asyncpg.PostgresError, asyncpg.InterfaceError, Internal, OSError, TimeoutError)


class PostgresJobStore(SqlReads, SqlCallbacks):
    """Open with `await PostgresJobStore.open(dsn, pool_size=…)`: connects and migrates."""

    def __init__(self, pool: asyncpg.Pool, *, acquire_timeout_s: float) -> None:
        self._pool: asyncpg.Pool | None = pool
        self._q = {name: numbered(sql) for name, sql in load_queries("postgres").items()}
        self._errors = driver_errors()
        self._acquire_timeout_s = acquire_timeout_s

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        pool_size: int = 10,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
    ) -> PostgresJobStore:
        """A pool of 1 to pool_size connections, migrated. StorageError if the server cannot be
        reached or migrated; the DSN is never echoed (it may carry a password)."""
        import asyncpg

        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=max(1, pool_size),
                timeout=connect_timeout_s,
                command_timeout=command_timeout_s,
                server_settings={"application_name": "vidsvc"},
            )
        except driver_errors() as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc!r}") from exc
        try:
            await migrate_postgres(pool)
        except BaseException:
            pool.terminate()
            raise
        # Waiting for a free connection includes reconnecting one: bounded like a statement.
        return cls(pool, acquire_timeout_s=connect_timeout_s + command_timeout_s)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; driver errors (and a closed store) leave as StorageError."""
        pool = self._pool
        if pool is None:
            raise StorageError("the job store is closed")
        try:
            conn = await pool.acquire(timeout=self._acquire_timeout_s)
        except self._errors as exc:
            # repr, not str: a timeout's str() is empty
            raise StorageError(f"PostgreSQL: {exc!r}") from exc
        try:
            yield conn
        except self._errors as exc:
            raise StorageError(f"PostgreSQL: {exc!r}") from exc
        finally:
            # Bounded: a release resets the connection with a query, which a server coming
            # back from a restart may never answer (asyncpg waits without a limit by default;
            # past the limit it terminates the connection instead of returning it).
            with contextlib.suppress(*self._errors):
                await pool.release(conn, timeout=self._acquire_timeout_s)

    async def _rows(self, name: str, params: Mapping[str, Any], **_: bool) -> list[asyncpg.Record]:
        query = self._q[name]
        async with self._connection() as conn:
            return list(await conn.fetch(query.sql, *query.args(params)))

    def _job(self, row: Any) -> Job:
        return job_of(row)

    def templates(self) -> SqlTemplates:
        """The TemplateStore on this store's pool (timestamptz arrives aware, in UTC)."""
        return SqlTemplates(
            write=self._rows, read=self._rows, time_in=rules.as_utc, time_out=rules.as_utc
        )

    def _stamp(self, value: datetime) -> datetime:
        return rules.as_utc(value)

    def _instant(self, value: Any) -> datetime:
        instant: datetime = value  # timestamptz arrives as an aware UTC datetime
        return instant

    async def create(self, job: Job, *, callback: CallbackEvent | None = None) -> Job:
        import asyncpg

        sql, args = self._q["insert_job"].sql, self._q["insert_job"].args(job_params(job))
        async with self._connection() as conn:
            try:
                async with conn.transaction():  # with its webhook event: both rows or neither
                    row = await conn.fetchrow(sql, *args)
                    if callback is not None:
                        insert = self._q["insert_callback"]
                        params = self._callback_params(callback)
                        await conn.execute(insert.sql, *insert.args(params))
            except asyncpg.UniqueViolationError:
                raise ValueError(f"job {job.id} already exists") from None
            except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as exc:
                # e.g. an unknown kind, or a NUL character, which jsonb and text cannot hold
                raise ValueError(f"job {job.id} refused by the schema: {exc}") from None
        return job_of(row)

    def _claim_params(self, owner: str, lease_s: float) -> dict[str, Any]:
        now = utcnow()
        expires = now + timedelta(seconds=lease_s)
        return {"owner": owner, "token": new_token(), "expires_at": expires, "now": now}

    async def claim(self, job_id: JobId, *, owner: str, lease_s: float) -> Job | None:
        return await self._one("claim", {**self._claim_params(owner, lease_s), "id": job_id})

    async def claim_next(self, *, owner: str, lease_s: float) -> Job | None:
        return await self._one("claim_next", self._claim_params(owner, lease_s))

    async def renew(self, job_id: JobId, token: str, lease_s: float) -> bool:
        at = utcnow() + timedelta(seconds=lease_s)
        return bool(await self._rows("renew", {"id": job_id, "token": token, "expires_at": at}))

    async def record_progress(self, job_id: JobId, token: str, progress: Progress) -> Job | None:
        rules.next_percentage(0.0, progress.percentage)  # refuses NaN before SQL sees it
        params = {"id": job_id, "token": token, "now": utcnow()}
        return await self._one("record_progress", {**params, **progress_doc(progress)})

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
        params |= {"error": error and json_text(error.to_dict()), "now": utcnow()}
        params |= {"output_key": output_key, "thumbnail_key": thumbnail_key}
        params["cache_key"] = cache_key
        params["metadata"] = json_text(dict(metadata)) if metadata else None
        return await self._one("finish", params)

    async def requeue(self, job_id: JobId, token: str) -> Job | None:
        return await self._one("requeue", {"id": job_id, "token": token, "now": utcnow()})

    async def cancel(self, job_id: JobId) -> Job | None:
        changed = await self._one("cancel", {"id": job_id, "now": utcnow()})
        return changed or await self.get(job_id)

    async def reap_expired(self, now: datetime) -> builtins.list[Job]:
        params = {"expired_before": rules.as_utc(now), "now": utcnow()}
        jobs = [job_of(r) for r in await self._rows("reap_expired", params)]
        return sorted(jobs, key=lambda j: (j.created_at, j.id))

    async def annotate(self, job_id: JobId, metadata: Mapping[str, Any]) -> Job | None:
        params = {"id": job_id, "metadata": json_text(dict(metadata)), "now": utcnow()}
        return await self._one("annotate", params)

    async def delete_user(self, user_id: str) -> builtins.list[Job]:
        rows = await self._rows("delete_user", {"user_id": user_id})
        return sorted((job_of(r) for r in rows), key=lambda j: (j.created_at, j.id))

    async def record_metrics(self, job_id: JobId, metrics: Mapping[str, Any]) -> None:
        row = rules.metrics_row(metrics)
        row |= {"job_id": job_id, "now": utcnow(), "ffmpeg_stats": json_text(row["ffmpeg_stats"])}
        await self._rows("insert_metrics", row)

    async def metrics(self, job_id: JobId) -> builtins.list[dict[str, Any]]:
        """The job_metrics rows of a job, oldest first (not in the protocol yet)."""
        rows = await self._rows("list_metrics", {"job_id": job_id})
        return [dict(r) | {"ffmpeg_stats": json.loads(r["ffmpeg_stats"])} for r in rows]

    async def ping(self) -> None:
        await self._rows("ping", {})

    async def aclose(self) -> None:
        """Close the pool: idle connections at once, busy ones after their statement; past
        CLOSE_TIMEOUT_S (a server that stopped answering) they are cut."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await pool.close()
        except driver_errors():  # TimeoutError included
            with suppress(*driver_errors()):
                pool.terminate()
