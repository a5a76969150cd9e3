"""In-memory backends: MemoryJobStore and MemoryBlobStore, the reference implementations and the
test fakes; MemoryPubSub and MemoryBacklog are re-exported from store.inprocess.

The job store's semantics are the contract (store/base.py), restated by the SQL stores.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from vidsvc.jobs import Job, JobError, JobId, JobKind, JobState, Lease, Progress, new_token, utcnow
from vidsvc.store import rules
from vidsvc.store.callback_events import CallbackEvent
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory_blobs import MemoryBlobStore
from vidsvc.store.memory_callbacks import MemoryCallbacks

__all__ = ["MemoryBacklog", "MemoryBlobStore", "MemoryJobStore", "MemoryPubSub"]


def _normalized(job: Job) -> Job:
    """The job as a database would hand it back: UTC times, JSON-copied mappings."""
    lease = job.lease and replace(job.lease, expires_at=rules.as_utc(job.lease.expires_at))
    error = job.error and JobError.from_dict(rules.json_copy(job.error.to_dict()))
    return replace(
        job,
        payload=rules.json_copy(dict(job.payload)),
        metadata=rules.json_copy(dict(job.metadata)),
        progress=replace(job.progress, percentage=float(job.progress.percentage)),
        error=error,
        lease=lease,
        created_at=rules.as_utc(job.created_at),
        updated_at=rules.as_utc(job.updated_at),
        started_at=job.started_at and rules.as_utc(job.started_at),
        finished_at=job.finished_at and rules.as_utc(job.finished_at),
    )


def _fenced(token: str) -> Callable[[Job], bool]:
    """Matches the job only while it is processing under this claim's token."""
    return lambda j: j.state is JobState.PROCESSING and getattr(j.lease, "token", None) == token


def _age(job: Job) -> tuple[datetime, str]:
    """The list order's key: created_at, then id (ties are common within a millisecond)."""
    return (job.created_at, job.id)


def _is_queued(job: Job) -> bool:
    return job.state is JobState.QUEUED


def _claimed(job: Job, owner: str, lease_s: float) -> Job:
    now = utcnow()
    lease = Lease(owner=owner, token=new_token(), expires_at=now + timedelta(seconds=lease_s))
    return replace(
        job,
        state=JobState.PROCESSING,
        attempts=job.attempts + 1,
        lease=lease,
        started_at=job.started_at or now,
        progress_seq=job.progress_seq + 1,
        updated_at=now,
    )


def _ended(job: Job, state: JobState, **changes: Any) -> Job:
    """Leave processing: the lease goes, progress_seq moves, terminal states get finished_at."""
    now = utcnow()
    return replace(
        job,
        state=state,
        lease=None,
        progress_seq=job.progress_seq + 1,
        updated_at=now,
        finished_at=now if state.terminal else None,
        progress=(
            Progress(stage=state.value, percentage=job.progress.percentage, message=state.value)
            if state.terminal
            else Progress()
        ),
        **changes,
    )


def _reaped(job: Job) -> Job:
    if job.cancel_requested:
        return _ended(job, JobState.CANCELLED)
    if job.attempts >= job.max_attempts:
        error = rules.lease_lost_error(job.attempts, job.max_attempts)
        return _ended(job, JobState.FAILED, error=error)
    return _ended(job, JobState.QUEUED)


class MemoryJobStore(MemoryCallbacks):
    """Dicts behind one asyncio.Lock; every change is check-and-replace under that lock."""

    def __init__(self) -> None:
        self._jobs: dict[JobId, Job] = {}
        self._metrics: list[dict[str, Any]] = []
        self._cache_keys: dict[JobId, str] = {}  #: the SQL stores' cache_key column
        self._events: dict[JobId, CallbackEvent] = {}  #: webhook events (memory_callbacks.py)
        self._lock = asyncio.Lock()

    async def _update(
        self, job_id: JobId, when: Callable[[Job], bool], change: Callable[[Job], Job]
    ) -> Job | None:
        async with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not when(job):
                return None
            self._jobs[job_id] = change(job)
            return self._jobs[job_id]

    async def create(self, job: Job, *, callback: CallbackEvent | None = None) -> Job:
        stored = _normalized(job)
        async with self._lock:
            if job.id in self._jobs:
                raise ValueError(f"job {job.id} already exists")
            self._jobs[job.id] = stored
            if callback is not None:
                self._arm(callback)
        return stored

    async def get(self, job_id: JobId) -> Job | None:
        return self._jobs.get(job_id)

    async def list(
        self,
        *,
        kind: JobKind = JobKind.COMPOSITION,
        state: JobState | None = None,
        limit: int = 20,
        before: JobId | None = None,
    ) -> list[Job]:
        jobs = sorted(self._jobs.values(), key=_age, reverse=True)
        if before is not None:
            cursor = self._jobs.get(before)
            if cursor is None:
                return []
            jobs = [j for j in jobs if (j.created_at, j.id) < (cursor.created_at, cursor.id)]
        found = [j for j in jobs if j.kind is kind and state in (None, j.state)]
        return found[: max(limit, 0)]

    async def count(self, state: JobState, *, kind: JobKind | None = None) -> int:
        return sum(1 for j in self._jobs.values() if j.state is state and kind in (None, j.kind))

    async def queued_ids(self, *, limit: int = 10_000) -> builtins.list[JobId]:
        queued = [j for j in self._jobs.values() if j.state is JobState.QUEUED]
        queued.sort(key=_age)
        return [j.id for j in queued[: max(limit, 0)]]

    async def claim(self, job_id: JobId, *, owner: str, lease_s: float) -> Job | None:
        return await self._update(job_id, _is_queued, lambda j: _claimed(j, owner, lease_s))

    async def claim_next(self, *, owner: str, lease_s: float) -> Job | None:
        async with self._lock:
            queued = [j for j in self._jobs.values() if j.state is JobState.QUEUED]
            if not queued:
                return None
            oldest = min(queued, key=_age)
            self._jobs[oldest.id] = _claimed(oldest, owner, lease_s)
            return self._jobs[oldest.id]

    async def renew(self, job_id: JobId, token: str, lease_s: float) -> bool:
        def extended(job: Job) -> Job:
            assert job.lease is not None  # _fenced checked it
            expires_at = utcnow() + timedelta(seconds=lease_s)
            return replace(job, lease=replace(job.lease, expires_at=expires_at))

        return await self._update(job_id, _fenced(token), extended) is not None

    async def record_progress(self, job_id: JobId, token: str, progress: Progress) -> Job | None:
        def advanced(job: Job) -> Job:
            pct = rules.next_percentage(job.progress.percentage, progress.percentage)
            return replace(
                job,
                progress=replace(progress, percentage=pct),
                progress_seq=job.progress_seq + 1,
                updated_at=utcnow(),
            )

        return await self._update(job_id, _fenced(token), advanced)

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
        error = error and JobError.from_dict(rules.json_copy(error.to_dict()))

        def finished(job: Job) -> Job:
            done = _ended(
                job,
                state,
                error=error,
                output_key=output_key or job.output_key,
                thumbnail_key=thumbnail_key or job.thumbnail_key,
                metadata=rules.merge_metadata(job.metadata, metadata),
            )
            if cache_key is not None:  # under the lock, with the state change
                self._cache_keys[job_id] = cache_key
            if state is JobState.COMPLETED:
                return replace(done, progress=replace(done.progress, percentage=100.0))
            return done

        return await self._update(job_id, _fenced(token), finished)

    async def find_cached(self, cache_key: str) -> Job | None:
        found = [
            j
            for j in self._jobs.values()
            if self._cache_keys.get(j.id) == cache_key
            and j.state is JobState.COMPLETED
            and j.output_key
            and j.thumbnail_key
        ]
        return max(found, key=lambda j: (j.finished_at, j.id), default=None)

    async def requeue(self, job_id: JobId, token: str) -> Job | None:
        def handed_back(job: Job) -> Job:
            # A cancel requested while it ran wins over handing it back.
            if job.cancel_requested:
                return _ended(job, JobState.CANCELLED)
            return _ended(job, JobState.QUEUED, attempts=job.attempts - 1)  # not its fault

        return await self._update(job_id, _fenced(token), handed_back)

    async def cancel(self, job_id: JobId) -> Job | None:
        def cancelled(job: Job) -> Job:
            if job.state is JobState.QUEUED:
                return replace(_ended(job, JobState.CANCELLED), cancel_requested=True)
            return replace(job, cancel_requested=True, updated_at=utcnow())

        changed = await self._update(job_id, lambda j: not j.state.terminal, cancelled)
        return changed or self._jobs.get(job_id)

    async def reap_expired(self, now: datetime) -> builtins.list[Job]:
        async with self._lock:
            expired = [
                j
                for j in self._jobs.values()
                if j.state is JobState.PROCESSING and j.lease and j.lease.expires_at < now
            ]
            for job in expired:
                self._jobs[job.id] = _reaped(job)
            return sorted((self._jobs[j.id] for j in expired), key=_age)

    async def annotate(self, job_id: JobId, metadata: Mapping[str, Any]) -> Job | None:
        def noted(job: Job) -> Job:
            merged = rules.merge_metadata(job.metadata, metadata)
            return replace(job, metadata=merged, updated_at=utcnow())

        return await self._update(job_id, lambda _: True, noted)

    async def delete_user(self, user_id: str) -> builtins.list[Job]:
        async with self._lock:
            gone = [
                j
                for j in self._jobs.values()
                if j.user_id == user_id and j.state is not JobState.PROCESSING
            ]
            for job in gone:
                del self._jobs[job.id]
                self._cache_keys.pop(job.id, None)
            self._metrics = [m for m in self._metrics if m["job_id"] not in {j.id for j in gone}]
            return sorted(gone, key=_age)

    async def record_metrics(self, job_id: JobId, metrics: Mapping[str, Any]) -> None:
        row = rules.metrics_row(metrics)
        async with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return  # as the SQL stores: metrics of an unknown (deleted) job are dropped
            row.update(job_id=job_id, created_at=utcnow())
            row["job_type"] = row["job_type"] or job.kind.value
            self._metrics.append(row)

    async def metrics(self, job_id: JobId) -> builtins.list[dict[str, Any]]:
        """The job_metrics rows of a job, oldest first (not in the protocol yet)."""
        return [dict(row) for row in self._metrics if row["job_id"] == job_id]

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
