"""SqlReads: the read-only JobStore methods, written once over named queries.

SQLite and PostgreSQL run the same query names with the same parameters; only how a query is
executed (`_rows`) and how a row becomes a Job (`_one`, `_job`) differ.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from vidsvc.jobs import Job, JobId, JobKind, JobState


class SqlReads:
    async def _rows(self, name: str, params: Mapping[str, Any], **kw: bool) -> Sequence[Any]:
        """Run a named query; `kw` carries a dialect's options (SQLite: immediate=True)."""
        raise NotImplementedError

    def _job(self, row: Any) -> Job:
        raise NotImplementedError

    async def _one(self, name: str, params: Mapping[str, Any], **kw: bool) -> Job | None:
        rows = await self._rows(name, params, **kw)
        return self._job(rows[0]) if rows else None

    async def _read(self, name: str, params: Mapping[str, Any]) -> Sequence[Any]:
        """A read-only query: `_rows` unless the dialect keeps a separate reader (SQLite does,
        so API reads never queue behind a writer's fsync)."""
        return await self._rows(name, params)

    async def _read_one(self, name: str, params: Mapping[str, Any]) -> Job | None:
        rows = await self._read(name, params)
        return self._job(rows[0]) if rows else None

    async def get(self, job_id: JobId) -> Job | None:
        return await self._read_one("get_job", {"id": job_id})

    async def list(
        self,
        *,
        kind: JobKind = JobKind.COMPOSITION,
        state: JobState | None = None,
        limit: int = 20,
        before: JobId | None = None,
    ) -> builtins.list[Job]:
        params = {"kind": kind.value, "status": state and state.value, "limit": max(limit, 0)}
        if before is None:
            return [self._job(r) for r in await self._read("list_first", params)]
        rows = await self._read("list_before", {**params, "before": before})
        return [self._job(r) for r in rows]

    async def count(self, state: JobState, *, kind: JobKind | None = None) -> int:
        rows = await self._read("count_jobs", {"status": state.value, "kind": kind and kind.value})
        return int(rows[0][0])

    async def queued_ids(self, *, limit: int = 10_000) -> builtins.list[JobId]:
        return [r["id"] for r in await self._read("queued_ids", {"limit": max(limit, 0)})]

    async def find_cached(self, cache_key: str) -> Job | None:
        return await self._read_one("find_cached", {"cache_key": cache_key})
