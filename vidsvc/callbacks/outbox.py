"""Outbox: webhook events delivered from the store, across restarts and instances, once each.

An event is stored with its job, in the job's own commit (JobStore.create, `armed`), and is
due once the job is terminal, whatever ended it. Every instance's outbox claims due events with
a lease (JobStore.claim_callback: one conditional update, as jobs are claimed) and makes one
attempt per claim, outside the render pool; the attempt is recorded fenced by the lease's token
(record_callback) with the time of the next try, so a retry waits in the store, not in memory: a
restart, or another instance, takes the event up where it was left. The lease outlasts an
attempt (CALLBACK_TIMEOUT + LEASE_SECONDS), so no two instances send one event at once. The one
case that sends an event twice is a crash between the receiver's answer and the record: the
same event id again (docs/reliability.md D11).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from vidsvc.callbacks import send
from vidsvc.callbacks.links import CallingBack, Links, LocalFiles
from vidsvc.config import Settings
from vidsvc.errors import VidsvcError
from vidsvc.jobs import Job, JobKind, utcnow
from vidsvc.store import Stores
from vidsvc.store.callback_events import CallbackEvent, EventState

log = logging.getLogger(__name__)

#: How often due events are looked for when nothing wakes the outbox (another instance's
#: jobs, the reaper's, retries coming due).
POLL_SECONDS = 1.0
IN_FLIGHT = 8  #: attempts under way at once on an instance
#: Delay before retry n (1-based) is BACKOFF_BASE * 2**(n-1), capped; tests shrink these.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def armed(handler: object, job: Job, origin: str) -> CallbackEvent | None:
    """The webhook event to store with a new job; None when its kind or the job names none."""
    url = handler.callback_url(job) if isinstance(handler, CallingBack) else None
    return None if url is None else CallbackEvent.armed(job_id=job.id, url=url, origin=origin)


def _note(error: str, **more: Any) -> dict[str, Any]:
    return {"at": utcnow().isoformat().replace("+00:00", "Z"), "error": error, **more}


class Outbox:
    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        kinds: Mapping[JobKind, CallingBack],
        *,
        owner: str,
        local_files: LocalFiles | None = None,
    ) -> None:
        self.settings, self.stores, self.kinds, self.owner = settings, stores, kinds, owner
        self.local_files = local_files
        self._woken = asyncio.Event()
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        self._sending: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    @classmethod
    def of(
        cls,
        settings: Settings,
        stores: Stores,
        handlers: Mapping[JobKind, object],
        owner: str,
        local_files: LocalFiles | None = None,
    ) -> Outbox:
        """The outbox of the kinds among `handlers` that call back."""
        kinds = {k: h for k, h in handlers.items() if isinstance(h, CallingBack)}
        return cls(settings, stores, kinds, owner=owner, local_files=local_files)

    async def recover(self) -> None:
        """With a private database (SQLite) every lease is a dead process of ours: free them
        now rather than after they expire. A shared one waits for expiry, as jobs do."""
        if not self.stores.shared:
            await self.stores.jobs.release_callbacks(FAR_FUTURE)

    def start(self) -> None:
        if self.kinds:  # no kind calls back: nothing can ever be due
            self._loop = asyncio.create_task(self._run(), name="outbox")

    def wake(self) -> None:
        """A job ended here: look for due events now rather than at the next poll."""
        self._woken.set()

    async def stop(self, grace: float) -> None:
        """Stop claiming; attempts under way get `grace` seconds, then are cut short (their
        events are released, not counted, and sent again by whoever claims them next)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        sending = set(self._sending)
        if sending and grace > 0:
            _, sending = await asyncio.wait(sending, timeout=grace)
        for task in sending:
            task.cancel()
        await asyncio.gather(*sending, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self._claim_due()
            except VidsvcError:
                log.warning("claiming webhook events failed; retrying", exc_info=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._woken.wait()
            self._woken.clear()

    async def _claim_due(self) -> None:
        lease_s = self.settings.callback_timeout + self.settings.lease_seconds
        while True:
            await self._slots.acquire()
            try:
                jobs = self.stores.jobs
                event = await jobs.claim_callback(owner=self.owner, lease_s=lease_s, now=utcnow())
            except BaseException:
                self._slots.release()
                raise
            if event is None:
                self._slots.release()
                return
            task = asyncio.create_task(self._deliver(event), name=f"callback:{event.id}")
            self._sending.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slots.release()

    async def _deliver(self, event: CallbackEvent) -> None:
        extra = {"job_id": event.job_id, "event_id": event.id}
        try:
            note = await self._attempt(event)
        except asyncio.CancelledError:  # stopping: not an attempt; the next claimer sends it
            with contextlib.suppress(VidsvcError):
                await asyncio.shield(self.stores.jobs.release_callback(event.id, event.token))
            raise
        try:
            await asyncio.shield(self._record(event, note))  # the answer came: keep it
        except VidsvcError:  # the store blinked: the lease lapses and the event is sent again
            log.warning("webhook attempt not recorded", extra=extra, exc_info=True)
        except Exception:  # a bug: the same, loudly (an unawaited task would hide it)
            log.exception("webhook attempt not recorded", extra=extra)

    async def _attempt(self, event: CallbackEvent) -> dict[str, Any]:
        try:
            job = await self.stores.jobs.get(event.job_id)
        except VidsvcError as exc:
            return _note(f"the job could not be read: {exc.message}")
        kind = self.kinds.get(job.kind) if job is not None else None
        if job is None or kind is None:
            return _note("the job no longer exists", refused=True)
        origin = event.origin or self.settings.public_base_url
        links = Links(
            origin=origin,
            blobs=self.stores.blobs,
            ttl_s=self.settings.download_url_ttl,
            local_files=self.local_files,
        )
        try:
            body = await kind.callback_body(job, event, links)
            raw = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        except Exception:  # a bug here must not take the outbox down: noted, tried again
            log.exception("webhook body failed", extra={"job_id": job.id, "event_id": event.id})
            return _note("the body could not be written")
        # DNS is outside the request's own timeout: bound the whole attempt inside the lease
        bound = self.settings.callback_timeout + self.settings.lease_seconds / 2
        try:
            async with asyncio.timeout(bound):
                return await send.attempt(event.url, self.settings, raw, event.id)
        except TimeoutError:
            return _note(f"TimeoutError: no answer within {bound:g} s")

    async def _record(self, event: CallbackEvent, note: Mapping[str, Any]) -> None:
        attempt = event.attempts + 1
        state, wait = EventState.PENDING, send.backoff(attempt, BACKOFF_BASE, BACKOFF_CAP)
        if send.delivered(note):
            state = EventState.DELIVERED
        elif not send.retryable(note) or attempt >= self.settings.callback_max_attempts:
            state = EventState.FAILED
        next_at = utcnow() + timedelta(seconds=wait if state is EventState.PENDING else 0)
        done = await self.stores.jobs.record_callback(
            event.id, event.token, note=note, state=state, next_at=next_at
        )
        extra = {"job_id": event.job_id, "event_id": event.id, "attempt": attempt}
        if done is None:
            log.warning("webhook lease lost before its attempt was recorded", extra=extra)
        elif state is EventState.FAILED:
            log.warning("webhook not delivered", extra=extra | {"note": dict(note)})
        elif state is EventState.DELIVERED:
            log.info("webhook delivered", extra=extra)
