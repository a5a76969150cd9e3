"""The backend contracts: JobStore, TemplateStore, BlobStore, PubSub, Backlog (typing.Protocol).

Protocols pin signatures only; behaviour is pinned by one contract suite per protocol
(tests/unit/store/test_*_contract.py) run against every implementation. The JobStore is the source
of truth and its row is the lock: every state change is one conditional update, and every write by
a worker is fenced by the lease token of its claim. The backlog and pub/sub only wake and inform.

Imports only the leaf jobs; never vidsvc.runner, vidsvc.graph or vidsvc.http.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, Protocol

from vidsvc.jobs import Job, JobError, JobId, JobKind, JobState, Progress
from vidsvc.store.callback_events import CallbackEvent, EventState


class JobStore(Protocol):
    async def create(self, job: Job, *, callback: CallbackEvent | None = None) -> Job:
        """Insert a new job (committed before returning). Raises ValueError on a duplicate id.
        With `callback`, its webhook event is inserted in the same commit: both or neither."""

    async def get(self, job_id: JobId) -> Job | None: ...

    async def list(
        self,
        *,
        kind: JobKind = JobKind.COMPOSITION,
        state: JobState | None = None,
        limit: int = 20,
        before: JobId | None = None,
    ) -> list[Job]:
        """Newest first (created_at, then id, descending). `before`: the last id of the previous
        page; only jobs after it in that order are returned. An unknown `before` gives []."""

    async def count(self, state: JobState, *, kind: JobKind | None = None) -> int: ...

    async def queued_ids(self, *, limit: int = 10_000) -> builtins.list[JobId]:
        """Ids of queued jobs, oldest first (to rebuild an in-process backlog at start)."""

    async def claim(self, job_id: JobId, *, owner: str, lease_s: float) -> Job | None:
        """queued → processing for this job only: attempts + 1, a new lease token, the lease
        expiring lease_s from now, started_at set if unset, progress_seq + 1. None if the job
        is not queued (cancelled, already claimed, unknown). Two claimers never both win."""

    async def claim_next(self, *, owner: str, lease_s: float) -> Job | None:
        """As claim(), for the oldest queued job of any kind; None when nothing is queued."""

    async def renew(self, job_id: JobId, token: str, lease_s: float) -> bool:
        """Extend the lease if the job is processing under this token; False otherwise."""

    async def record_progress(self, job_id: JobId, token: str, progress: Progress) -> Job | None:
        """Fenced progress write: progress_seq + 1, percentage never lower than before.
        None if the job is not processing under this token."""

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
        """Fenced processing → terminal `state`: finished_at set, lease cleared, progress_seq + 1,
        progress set to (state, 100 if completed else unchanged percentage, message: the
        state), metadata merged, cache_key recorded (for find_cached) when given.
        None if the job is not processing under this token (a zombie's write is refused)."""

    async def find_cached(self, cache_key: str) -> Job | None:
        """The render cache: the newest (finished_at, then id) completed job finished with this
        cache_key and an output and thumbnail key; None if there is none. The blobs may be gone
        since: the caller checks."""

    async def requeue(self, job_id: JobId, token: str) -> Job | None:
        """Fenced processing → queued with the lease cleared (shutdown hands a job back).
        The attempt is given back (attempts - 1: stopping was our choice); progress resets to
        queued/0 with progress_seq + 1. A job whose cancel was requested ends cancelled."""

    async def cancel(self, job_id: JobId) -> Job | None:
        """queued → cancelled at once (terminal, progress_seq + 1); processing → only
        cancel_requested set (the worker stops FFmpeg and finishes it as cancelled); terminal:
        unchanged. Returns the job after, or None if unknown."""

    async def reap_expired(self, now: datetime) -> builtins.list[Job]:
        """Processing jobs whose lease expired before `now` (their worker died): back to queued,
        or to failed with PROCESSING_FAILED once attempts >= max_attempts. Returns them."""

    async def annotate(self, job_id: JobId, metadata: Mapping[str, Any]) -> Job | None:
        """Shallow-merge metadata into the job in any state (not fenced: notes such as callback
        attempts come after the job is terminal). State and progress_seq are unchanged.
        None if the job is unknown."""

    async def delete_user(self, user_id: str) -> builtins.list[Job]:
        """Delete every job of user_id (any kind) that is queued or terminal; processing jobs
        are left to their worker. Returns the deleted rows (their blobs are the caller's)."""

    async def record_metrics(self, job_id: JobId, metrics: Mapping[str, Any]) -> None:
        """Append one job_metrics row (wall/cpu seconds, ffmpeg stats) for a finished run."""

    # -- webhook events (store/callback_events.py): claimed and fenced like jobs ----------

    async def claim_callback(
        self, *, owner: str, lease_s: float, now: datetime
    ) -> CallbackEvent | None:
        """The oldest due event (pending, next_at <= now, lease free or expired before now)
        whose job is terminal, leased to owner with a new token until now + lease_s; None when
        nothing is due. Two claimers never both win."""

    async def record_callback(
        self,
        event_id: str,
        token: str,
        *,
        note: Mapping[str, Any],
        state: EventState,
        next_at: datetime,
    ) -> CallbackEvent | None:
        """Fenced: attempts + 1, note appended, state and next_at set, lease cleared,
        finished_at set when state is final. None unless pending and leased under token."""

    async def release_callback(self, event_id: str, token: str) -> CallbackEvent | None:
        """Fenced: the lease cleared, nothing counted (a stop cut the attempt short)."""

    async def release_callbacks(self, expired_before: datetime) -> int:
        """Every lease that expires before `expired_before` cleared (at start, with a private
        database: a dead process of ours held them); how many."""

    async def callback_event(self, job_id: JobId) -> CallbackEvent | None:
        """The webhook event of a job (None: it has none, or the job is gone)."""

    async def ping(self) -> None:
        """Raise StorageError if the store cannot answer."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A saved composition with `{{NAME}}` placeholders (POST /api/v1/templates)."""

    id: str  #: tmpl_ + 24 hex digits
    name: str
    composition: Mapping[str, Any]  #: the document as it was posted (JSON)
    placeholders: tuple[str, ...]  #: the names it uses, in order of first use
    created_at: datetime  #: aware UTC


def new_template_id() -> str:
    return f"tmpl_{secrets.token_hex(12)}"


class TemplateStore(Protocol):
    """Templates, beside the jobs in the same database (the SQL stores share its connection)."""

    async def create(self, template: Template) -> Template:
        """Insert (committed before returning). Raises ValueError on a duplicate id."""

    async def get(self, template_id: str) -> Template | None: ...

    async def list(self, *, limit: int = 20, before: str | None = None) -> list[Template]:
        """Newest first (created_at, then id, descending); `before` as JobStore.list's."""

    async def delete(self, template_id: str) -> bool:
        """Remove it; False when there was none. Compositions made from it are untouched."""


class BlobStore(Protocol):
    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        """Store the file under key atomically (readers never see half a file)."""

    async def get_file(self, key: str, dest: Path) -> None:
        """Copy the blob to dest. KeyError if missing."""

    async def copy(self, src_key: str, dst_key: str) -> None:
        """Store a copy of src_key under dst_key (atomically, as put_file), independent of the
        source: deleting either later leaves the other whole. KeyError if src_key is missing."""

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the blob; a missing key is not an error."""

    async def url(self, key: str, *, expires_s: int) -> str | None:
        """A presigned URL (S3); None where the app serves the bytes itself (local disk)."""

    def local_path(self, key: str) -> Path | None:
        """The file behind key on local disk (None for remote stores or a missing key)."""

    async def ping(self) -> None: ...

    async def aclose(self) -> None: ...


class PubSub(Protocol):
    async def publish(self, channel: str, message: bytes) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Messages published to channel after the subscription is in place, in order."""

    async def aclose(self) -> None: ...


class Lane(IntEnum):
    """Where a pushed id waits: the claim order favours finishing started jobs."""

    TAIL = 0  #: behind every waiting id: a new job
    #: ahead of every TAIL id, behind the AHEAD ids already waiting (so the parts of the
    #: oldest split go first): work that finishes a started job
    AHEAD = 1
    HEAD = 2  #: ahead of all: a started job's last step (a split render's join)


class Backlog(Protocol):
    async def push(self, job_id: JobId, *, lane: Lane = Lane.TAIL) -> None:
        """Queue job_id in `lane`; an id already waiting stays where it is."""

    async def present(self, ttl_s: float) -> int:
        """Say this instance is live for ttl_s more seconds; how many instances are live
        (those that said so within their ttl, this one included)."""

    async def pop(self, timeout_s: float) -> JobId | None:
        """The next job id (FIFO), waiting up to timeout_s; None on timeout."""

    async def discard(self, job_id: JobId) -> None: ...

    async def ack(self, job_id: JobId) -> None:
        """The popped id was dealt with (its DB claim won or lost); forget it."""

    async def ids(self) -> builtins.list[JobId]:
        """Every pending id, head first (the reconciler re-pushes queued rows missing here)."""

    async def reclaim(self, idle_s: float) -> int:
        """Give back ids popped by consumers silent for idle_s (a dead instance); how many."""

    async def size(self) -> int: ...

    async def aclose(self) -> None: ...
