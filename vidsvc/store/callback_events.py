"""CallbackEvent: one webhook to POST for a job, as the job store keeps it (table callback_events).

An event is recorded with its job, in the same commit (JobStore.create), so it exists before any
terminal write of the job can be acknowledged; it becomes due once the job is terminal, whichever
path ended it (a worker, a cancel of a queued job, the reaper). Deliverers claim it with a lease,
as workers claim jobs, and record each attempt fenced by the lease's token. Pure values; imports
only vidsvc.jobs and store.rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from vidsvc.jobs import JobId, Lease, utcnow
from vidsvc.store import rules


class EventState(StrEnum):
    PENDING = "pending"  #: to send once its job is terminal (again after a failed attempt)
    DELIVERED = "delivered"  #: a 2xx came back; final
    FAILED = "failed"  #: refused for good, or out of attempts; final

    @property
    def final(self) -> bool:
        return self is not EventState.PENDING


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackEvent:
    id: str  #: the event id receivers see (X-Vidsvc-Event-Id): the same on every attempt
    job_id: JobId
    url: str  #: the callback_url, checked at submit (and again before every attempt)
    origin: str = ""  #: the service's public origin at submit: the links of the body
    state: EventState = EventState.PENDING
    attempts: int = 0
    notes: tuple[Mapping[str, Any], ...] = ()  #: one per attempt: {at, status | error, …}
    next_at: datetime  #: not sent before (backoff after a failed attempt)
    lease: Lease | None = None  #: the deliverer holding it now
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None  #: delivered or failed

    @classmethod
    def armed(cls, *, job_id: JobId, url: str, origin: str) -> CallbackEvent:
        """A new event for a job about to be created (JobStore.create stores both)."""
        now = utcnow()
        return cls(
            id=f"evt_{secrets.token_hex(16)}",
            job_id=job_id,
            url=url,
            origin=origin,
            next_at=now,
            created_at=now,
            updated_at=now,
        )

    @property
    def token(self) -> str:
        """The claim's fencing token ("" when not claimed)."""
        return self.lease.token if self.lease else ""


def note_copy(note: Mapping[str, Any]) -> dict[str, Any]:
    """An attempt's note as a JSON column keeps it (refused when it is not JSON)."""
    copied: dict[str, Any] = rules.json_copy(dict(note))
    return copied
