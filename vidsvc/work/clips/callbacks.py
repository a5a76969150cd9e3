"""Result callbacks: check a callback_url, then POST a job's result there in the background.

A callback_url is a request to make this service connect somewhere, so it gets the same
SSRF policy as inputs (docs/reliability.md S7): a static check at submit (no literal internal
address, no userinfo), a DNS check at submit and again at every send, and the connection
pinned to the addresses that were checked (a rebind between check and connect reaches
nothing). Redirects are not followed: a 3xx could point anywhere. Every attempt is noted
on the job (JobStore.annotate), the response body is never kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from vidsvc.config import Settings
from vidsvc.errors import ValidationError
from vidsvc.inputs import network
from vidsvc.jobs import Job, utcnow
from vidsvc.runner.lifecycle import Deps
from vidsvc.work.clips.outcome import ClipsOutcome, Delivery

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

log = logging.getLogger(__name__)

#: Delay before retry n (1-based) is BACKOFF_BASE * 2**(n-1), capped; tests shrink these.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0
#: Enough of the receiver's answer to see it replied; the rest is not our business.
RESPONSE_PEEK = 4096
SIGNATURE_HEADER = "X-Vidsvc-Signature"
EVENT_ID_HEADER = "X-Vidsvc-Event-Id"

#: Deliveries under way, so that shutdown can wait for them (drain_callbacks).
_tasks: set[asyncio.Task[None]] = set()


def _target(url: str, field: str) -> tuple[str, int]:
    """(host, port) of a well-formed http(s) URL without userinfo; ValidationError otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError.at(field, "is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError.at(field, "must be an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise ValidationError.at(field, "must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationError.at(field, "has no host")
    return host, port or (443 if parts.scheme == "https" else 80)


def check_callback_url(url: str, settings: Settings, *, field: str = "callback_url") -> None:
    """Static check (no I/O). Raises ValidationError naming `field` when refused."""
    host, port = _target(url, field)
    try:
        network.check_host(host, port, settings.allowed_callback_hosts)
    except network.Refused as exc:
        raise ValidationError.at(field, f"host {exc}") from None


async def _checked_answers(url: str, settings: Settings, field: str) -> list[ResolveResult]:
    check_callback_url(url, settings, field=field)
    host, port = _target(url, field)
    try:
        return await network.resolve_checked(host, port, settings.allowed_callback_hosts)
    except OSError:
        raise ValidationError.at(field, f"host {host} cannot be resolved") from None
    except network.Refused as exc:
        raise ValidationError.at(field, f"host {exc}") from None


async def check_callback_resolves(
    url: str, settings: Settings, *, field: str = "callback_url"
) -> None:
    """Resolve the host; refuse if ANY address is internal (unless host:port is listed)."""
    await _checked_answers(url, settings, field)


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


def sign(secret: str, body: bytes, at: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed too, so a
    receiver can refuse replays of an old delivery."""
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def _headers(settings: Settings, body: bytes, event_id: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", EVENT_ID_HEADER: event_id}
    if settings.callback_secret:
        headers[SIGNATURE_HEADER] = sign(settings.callback_secret, body, int(time.time()))
    return headers


async def _post(url: str, settings: Settings, body: bytes, event_id: str) -> int:
    """One POST to the checked, pinned addresses; the HTTP status (no redirect followed)."""
    answers = await _checked_answers(url, settings, "callback_url")
    connector = aiohttp.TCPConnector(resolver=network.PinnedResolver(answers), use_dns_cache=False)
    timeout = aiohttp.ClientTimeout(total=settings.callback_timeout)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
        session.post(
            url,
            data=body,
            headers=_headers(settings, body, event_id),
            allow_redirects=False,
        ) as resp,
    ):
        await resp.content.read(RESPONSE_PEEK)  # read a little so the receiver is not cut off
        return resp.status


async def _attempt(url: str, settings: Settings, body: bytes, event_id: str) -> dict[str, Any]:
    """One attempt as noted on the job: {at, status | error, duration_ms}."""
    at = utcnow().isoformat().replace("+00:00", "Z")
    started = time.monotonic()
    note: dict[str, Any] = {"at": at}
    try:
        note["status"] = await _post(url, settings, body, event_id)
    except ValidationError as exc:
        note["error"], note["refused"] = exc.message, True
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        note["error"] = f"{type(exc).__name__}: {exc}"[:300]
    note["duration_ms"] = round((time.monotonic() - started) * 1000)
    return note


def _retryable(note: Mapping[str, Any]) -> bool:
    """Network errors, timeouts, 5xx and 429 may pass later; a refusal, 3xx or 4xx will not."""
    if "status" not in note:
        return not note.get("refused", False)
    status = int(note["status"])
    return status >= 500 or status == 429


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
        note = await _attempt(url, deps.settings, body, event_id)
        delivered = 200 <= int(note.get("status", 0)) < 300
        await _record(deps, job, url, note, delivered)
        if delivered or not _retryable(note):
            return delivered
        if n < deps.settings.callback_max_attempts:
            await asyncio.sleep(min(BACKOFF_BASE * 2 ** (n - 1), BACKOFF_CAP))
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
