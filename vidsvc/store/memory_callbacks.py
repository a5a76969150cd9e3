"""MemoryCallbacks: the in-memory JobStore's webhook events, the reference for the SQL stores.

Mixed into MemoryJobStore: the events live beside its jobs, under its lock, so an event and its
job are stored together and "due" reads the job's state in the same step, as the SQL join does.
An event whose job was deleted is gone with it (the SQL stores cascade).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from vidsvc.jobs import Job, JobId, Lease, new_token, utcnow
from vidsvc.store import rules
from vidsvc.store.callback_events import CallbackEvent, EventState, note_copy


def _normalized(event: CallbackEvent) -> CallbackEvent:
    """As a database hands it back: UTC times, notes JSON-copied."""
    return replace(
        event,
        notes=tuple(note_copy(n) for n in event.notes),
        next_at=rules.as_utc(event.next_at),
        created_at=rules.as_utc(event.created_at),
        updated_at=rules.as_utc(event.updated_at),
    )


class MemoryCallbacks:
    _jobs: dict[JobId, Job]
    _events: dict[JobId, CallbackEvent]  #: by job id (one event per job)
    _lock: asyncio.Lock

    def _arm(self, event: CallbackEvent) -> None:
        """Store a new job's event; the caller holds the lock and is storing the job."""
        self._events[event.job_id] = _normalized(event)

    def _due(self, event: CallbackEvent, now: datetime) -> bool:
        job = self._jobs.get(event.job_id)
        free = event.lease is None or event.lease.expires_at < now
        ready = event.state is EventState.PENDING and event.next_at <= now and free
        return ready and job is not None and job.state.terminal

    async def _change(
        self,
        event_id: str,
        when: Callable[[CallbackEvent], bool],
        change: Callable[[CallbackEvent], CallbackEvent],
    ) -> CallbackEvent | None:
        async with self._lock:
            found = [e for e in self._events.values() if e.id == event_id and when(e)]
            if not found or found[0].job_id not in self._jobs:
                return None
            self._events[found[0].job_id] = change(found[0])
            return self._events[found[0].job_id]

    async def claim_callback(
        self, *, owner: str, lease_s: float, now: datetime
    ) -> CallbackEvent | None:
        now = rules.as_utc(now)
        async with self._lock:
            due = [e for e in self._events.values() if self._due(e, now)]
            if not due:
                return None
            event = min(due, key=lambda e: (e.next_at, e.id))
            expires = now + timedelta(seconds=lease_s)
            lease = Lease(owner=owner, token=new_token(), expires_at=expires)
            self._events[event.job_id] = replace(event, lease=lease, updated_at=utcnow())
            return self._events[event.job_id]

    async def record_callback(
        self,
        event_id: str,
        token: str,
        *,
        note: Mapping[str, Any],
        state: EventState,
        next_at: datetime,
    ) -> CallbackEvent | None:
        copied, now = note_copy(note), utcnow()

        def recorded(event: CallbackEvent) -> CallbackEvent:
            return replace(
                event,
                attempts=event.attempts + 1,
                notes=(*event.notes, copied),
                state=state,
                next_at=rules.as_utc(next_at),
                lease=None,
                updated_at=now,
                finished_at=now if state.final else None,
            )

        def fenced(event: CallbackEvent) -> bool:
            return event.state is EventState.PENDING and event.token == token != ""

        return await self._change(event_id, fenced, recorded)

    async def release_callback(self, event_id: str, token: str) -> CallbackEvent | None:
        def released(event: CallbackEvent) -> CallbackEvent:
            return replace(event, lease=None, updated_at=utcnow())

        return await self._change(event_id, lambda e: e.token == token != "", released)

    async def release_callbacks(self, expired_before: datetime) -> int:
        before = rules.as_utc(expired_before)
        async with self._lock:
            held = [e for e in self._events.values() if e.lease and e.lease.expires_at < before]
            for event in held:
                self._events[event.job_id] = replace(event, lease=None, updated_at=utcnow())
            return len(held)

    async def callback_event(self, job_id: JobId) -> CallbackEvent | None:
        return self._events.get(job_id) if job_id in self._jobs else None
