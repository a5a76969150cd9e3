"""A composition's webhook: its callback_url and metadata, checked at submit, and the body its
terminal state is announced with (the outbox, vidsvc/callbacks/outbox.py, delivers it).

Both fields live in the accepted document beside the composition (schema/webhook.py), never in
spec.Composition, so the render cache's key cannot see them. The body is written at each
attempt: `output_url` and `thumbnail_url` are expiring links (presigned, or this app's signed
/files URLs) freshly signed every time; `download_url` is the stable route that redirects to
a fresh one. Everything else is the same on every attempt, the event id included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidsvc.callbacks.links import Links
from vidsvc.callbacks.target import check_callback_resolves, check_callback_url
from vidsvc.config import Settings
from vidsvc.jobs import Job, JobState
from vidsvc.store.callback_events import CallbackEvent
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.outputs import listed, public, stored_keys

#: The public routes of compositions (http/routes.py): where download_url points.
ROUTE = "/api/v1/compositions"
#: A cancelled composition's error, as its WebSocket's last message gives it.
CANCELLED = {"code": "CANCELLED", "message": "the composition was cancelled", "details": {}}


def callback_url(document: Mapping[str, Any]) -> str | None:
    """The document's callback_url (its shape checked by the schema); None when absent."""
    url = document.get("callback_url")
    return url if isinstance(url, str) and url else None


def metadata(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """The client's metadata as accepted (a JSON object), or None."""
    value = document.get("metadata")
    return dict(value) if isinstance(value, Mapping) else None


def check_static(document: Mapping[str, Any], settings: Settings) -> None:
    """The callback policy without I/O (VALIDATION_ERROR naming callback_url)."""
    if url := callback_url(document):
        check_callback_url(url, settings)


async def check_resolves(document: Mapping[str, Any], settings: Settings) -> None:
    """Every address the callback host resolves to, checked (sending checks them again: DNS
    may change in between)."""
    if url := callback_url(document):
        await check_callback_resolves(url, settings)


def _error(job: Job) -> dict[str, Any] | None:
    if job.state is JobState.FAILED and job.error:
        return job.error.to_dict()
    return dict(CANCELLED) if job.state is JobState.CANCELLED else None


async def body(job: Job, event: CallbackEvent, links: Links) -> dict[str, Any]:
    """The webhook's JSON for a terminal composition."""
    done = job.state is JobState.COMPLETED
    outcome = CompositionOutcome.from_dict(job.metadata)
    files: dict[tuple[int, str], str | None] = {}
    for number, pair in enumerate(stored_keys(job, outcome.outputs) if done else ()):
        files[number, "video"] = await links.file(pair.video)
        files[number, "thumbnail"] = await links.file(pair.thumbnail)
    return {
        "event_id": event.id,
        "composition_id": job.id,
        "status": job.state.value,
        "output_url": await links.file(job.output_key) if done else None,
        "download_url": links.route(f"{ROUTE}/{job.id}/download") if done else None,
        "thumbnail_url": await links.file(job.thumbnail_key) if done else None,
        "duration": outcome.output_duration if done else None,
        "outputs": public(listed(outcome), lambda n, file: files.get((n, file))) if done else None,
        "error": _error(job),
        "metadata": metadata(job.payload),
    }
