"""SqlCallbacks: the JobStore's webhook-event methods, written once over named queries.

SQLite and PostgreSQL run the same query names with the same parameters (queries.sql, "Webhook
events"); a dialect gives how a query runs (`_rows`) and how a time is written and read back
(`_stamp`, `_instant`). Every change is one conditional UPDATE … RETURNING, fenced by the claim's
lease token like a job's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from vidsvc.jobs import JobId, Lease, new_token, utcnow
from vidsvc.store.callback_events import CallbackEvent, EventState, note_copy


class SqlCallbacks:
    async def _rows(self, name: str, params: Mapping[str, Any], **kw: bool) -> Sequence[Any]:
        raise NotImplementedError

    def _stamp(self, value: datetime) -> Any:
        """A time as the dialect's parameter (SQLite: sortable text; PostgreSQL: as is)."""
        raise NotImplementedError

    def _instant(self, value: Any) -> datetime:
        """A time column as an aware UTC datetime."""
        raise NotImplementedError

    def _callback_params(self, event: CallbackEvent) -> dict[str, Any]:
        """The insert_callback parameters of an event (notes as JSON text)."""
        return {
            "id": event.id,
            "job_id": event.job_id,
            "url": event.url,
            "origin": event.origin,
            "state": event.state.value,
            "attempts": event.attempts,
            "notes": json.dumps([note_copy(n) for n in event.notes], separators=(",", ":")),
            "next_at": self._stamp(event.next_at),
            "created_at": self._stamp(event.created_at),
            "updated_at": self._stamp(event.updated_at),
        }

    def _event(self, row: Any) -> CallbackEvent:
        lease = None
        if row["lease_token"] is not None:
            expires = self._instant(row["lease_expires_at"])
            lease = Lease(owner=row["lease_owner"], token=row["lease_token"], expires_at=expires)
        finished = row["finished_at"]
        return CallbackEvent(
            id=row["id"],
            job_id=row["job_id"],
            url=row["url"],
            origin=row["origin"],
            state=EventState(row["state"]),
            attempts=row["attempts"],
            notes=tuple(json.loads(row["notes"])),
            next_at=self._instant(row["next_at"]),
            lease=lease,
            created_at=self._instant(row["created_at"]),
            updated_at=self._instant(row["updated_at"]),
            finished_at=None if finished is None else self._instant(finished),
        )

    async def _one_event(
        self, name: str, params: Mapping[str, Any], **kw: bool
    ) -> CallbackEvent | None:
        rows = await self._rows(name, params, **kw)
        return self._event(rows[0]) if rows else None

    async def claim_callback(
        self, *, owner: str, lease_s: float, now: datetime
    ) -> CallbackEvent | None:
        params = {
            "owner": owner,
            "token": new_token(),
            "expires_at": self._stamp(now + timedelta(seconds=lease_s)),
            "now": self._stamp(now),
        }
        return await self._one_event("claim_callback", params, immediate=True)

    async def record_callback(
        self,
        event_id: str,
        token: str,
        *,
        note: Mapping[str, Any],
        state: EventState,
        next_at: datetime,
    ) -> CallbackEvent | None:
        params = {
            "id": event_id,
            "token": token,
            "note": json.dumps(note_copy(note), separators=(",", ":")),
            "state": state.value,
            "next_at": self._stamp(next_at),
            "now": self._stamp(utcnow()),
        }
        return await self._one_event("record_callback", params)

    async def release_callback(self, event_id: str, token: str) -> CallbackEvent | None:
        params = {"id": event_id, "token": token, "now": self._stamp(utcnow())}
        return await self._one_event("release_callback", params)

    async def release_callbacks(self, expired_before: datetime) -> int:
        params = {"expired_before": self._stamp(expired_before), "now": self._stamp(utcnow())}
        return len(await self._rows("release_callbacks", params))

    async def callback_event(self, job_id: JobId) -> CallbackEvent | None:
        return await self._one_event("get_callback", {"job_id": job_id})
