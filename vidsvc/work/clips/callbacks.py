"""Result callbacks of clips jobs: POST a job's result to its callback_url in the background.

What every callback shares lives in vidsvc/callbacks (the SSRF checks at submit and before every
attempt, the signed POST that follows no redirect, the retry policy); this module writes the
clips body, retries in process with backoff, and notes every attempt on the job
(JobStore.annotate), which the status route shows. The response body is never kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from vidsvc.callbacks import send
from vidsvc.callbacks.send import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from vidsvc.callbacks.target import check_callback_resolves, check_callback_url
from vidsvc.jobs import Job
from vidsvc.runner.lifecycle import Deps
from vidsvc.work.clips.outcome import ClipsOutcome, Delivery

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "check_callback_resolves",
    "check_callback_url",
    "deliver",
    "drain_callbacks",
    "notify",
    "pending",
    "result_body",
    "sign",
]

log = logging.getLogger(__name__)

#: Delay before retry n (1-based) is BACKOFF_BASE * 2**(n-1), capped; tests shrink these.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0

#: Deliveries under way, so that shutdown can wait for them (drain_callbacks).
_tasks: set[asyncio.Task[None]] = set()


def result_body(job: Job) -> bytes:
    """The JSON a receiver gets: the terminal state, results and error of the job."""
    finished = job.finished_at.isoformat().replace("+00:00", "Z") if job.finished_at else None
    doc = {
        "processing_id": job.id,
        "status": job.state.value,
        "results": [r.to_dict() for r in ClipsOutcome.from_dict(job.metadata).results],
        "error": job.error.to_dict() if job.error else None,
        "finished_at": finished,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


async def _record(deps: Deps, job: Job, url: str, note: dict[str, Any], done: bool) -> None:
    """Append the attempt to what the row holds (re-read, so nothing is lost across retries)."""
    try:
        current = await deps.stores.jobs.get(job.id)
        old = ClipsOutcome.from_dict(current.metadata if current else {}).callback
        delivery = Delivery(url=url, attempts=(*old.attempts, note), delivered=done)
        await deps.stores.jobs.annotate(job.id, {"callback": delivery.to_dict()})
    except Exception:  # the note is a record, not the delivery: losing it must not stop retries
        log.warning("could not record a callback attempt", extra={"job_id": job.id})


async def deliver(deps: Deps, job: Job, url: str) -> bool:
    """POST the result until a 2xx, a permanent refusal or callback_max_attempts; delivered?"""
    body, event_id = result_body(job), uuid.uuid4().hex  # one event id across the retries
    for n in range(1, deps.settings.callback_max_attempts + 1):
        note = await send.attempt(url, deps.settings, body, event_id)
        delivered = send.delivered(note)
        await _record(deps, job, url, note, delivered)
        if delivered or not send.retryable(note):
            return delivered
        if n < deps.settings.callback_max_attempts:
            await asyncio.sleep(send.backoff(n, BACKOFF_BASE, BACKOFF_CAP))
    return False


async def _deliver_logged(deps: Deps, job: Job, url: str) -> None:
    try:
        delivered = await deliver(deps, job, url)
    except Exception:
        log.exception("callback delivery crashed", extra={"job_id": job.id})
        return
    if not delivered:
        log.warning("callback not delivered", extra={"job_id": job.id})


async def notify(deps: Deps, job: Job, url: str) -> None:
    """Schedule the delivery of job's result to `url` and return at once."""
    task = asyncio.get_running_loop().create_task(_deliver_logged(deps, job, url))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def pending() -> int:
    """Deliveries still under way (for tests and shutdown logs)."""
    return len(_tasks)


async def drain_callbacks(timeout: float) -> None:
    """Give deliveries under way up to timeout seconds, then cancel what is left."""
    tasks = set(_tasks)
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        task.cancel()
    for task in late:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
