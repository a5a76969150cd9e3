"""Jobs as the JSON bodies of docs/contract.md §2 and §4: one function per body, no I/O.

Times are ISO-8601 UTC with a `Z`. Links point at this app (`…/download`), never at a blob
store, so a body stays valid after a presigned URL expires.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from vidsvc.http import urls
from vidsvc.jobs import Job, JobError, JobEvent, JobState, Progress
from vidsvc.work.compositions import webhook
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.outputs import listed, public

COMPOSITIONS = "/api/v1/compositions"
#: The terminal WebSocket message of a cancelled job (no error is stored for it).
CANCELLED_CODE = "CANCELLED"


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def progress(p: Progress) -> dict[str, Any]:
    return {
        "stage": p.stage,
        "percentage": round(p.percentage, 2),
        "message": p.message,
        "eta_seconds": None if p.eta_seconds is None else round(p.eta_seconds, 1),
        "speed": None if p.speed is None else round(p.speed, 3),
    }


def output_url(
    request: web.Request, job_id: str, state: JobState, file: str = "", rendition: int = 0
) -> str | None:
    if state is not JobState.COMPLETED:
        return None
    query = {"file": file} if file else {}
    query |= {"rendition": str(rendition)} if rendition else {}
    return urls.absolute(request, f"{COMPOSITIONS}/{job_id}/download", query or None)


def outputs(request: web.Request, job: Job) -> list[dict[str, Any]] | None:
    """Every rendition of a completed composition, with its /download links."""
    if job.state is not JobState.COMPLETED:
        return None

    def link(rendition: int, file: str) -> str | None:
        which = "thumbnail" if file == "thumbnail" else ""
        return output_url(request, job.id, job.state, which, rendition)

    return public(listed(CompositionOutcome.from_dict(job.metadata)), link)


def composition(request: web.Request, job: Job) -> dict[str, Any]:
    """GET /api/v1/compositions/{id} (and each item of the list)."""
    return {
        "composition_id": job.id,
        "status": job.state.value,
        "progress": progress(job.progress),
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "output_url": output_url(request, job.id, job.state),
        "thumbnail_url": output_url(request, job.id, job.state, "thumbnail"),
        "error": job.error.to_dict() if job.state is JobState.FAILED and job.error else None,
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "user_id": job.user_id,
        "websocket_url": urls.websocket(request, f"/ws/compositions/{job.id}"),
        "duration": output_duration(job),
        "outputs": outputs(request, job),
        "metadata": webhook.metadata(job.payload),  # the client's, as accepted
    }


def output_duration(job: Job) -> float | None:
    """Seconds of the finished output (its probe), so a list can show it without N requests."""
    return CompositionOutcome.from_dict(job.metadata).output_duration


def accepted(request: web.Request, job: Job, estimate_s: float | None) -> dict[str, Any]:
    """The 202 body of POST /api/v1/compositions."""
    return {
        "composition_id": job.id,
        "status": job.state.value,
        "created_at": iso(job.created_at),
        "estimated_duration": estimate_s,
        "websocket_url": urls.websocket(request, f"/ws/compositions/{job.id}"),
        "status_url": urls.absolute(request, f"{COMPOSITIONS}/{job.id}"),
    }


def metadata(job: Job) -> dict[str, Any]:
    """GET …/metadata: what the worker recorded, plus the row's own facts."""
    outcome = CompositionOutcome.from_dict(job.metadata)
    return {
        **job.metadata,  # as recorded, keys a later version may add included
        "composition_id": job.id,
        "status": job.state.value,
        "timings": dict(outcome.timings),
        "inputs": dict(outcome.inputs),
        "output": outcome.output,
        "command": outcome.command,
        "ffmpeg_version": outcome.ffmpeg_version,
        "attempts": job.attempts,
        "instance": outcome.instance or (job.lease.owner if job.lease else None),
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "error": job.error.to_dict() if job.error else None,
        # each rendition's shape, not where it is stored (GET …/{id} has the links)
        "outputs": [
            {k: v for k, v in o.items() if not k.endswith("_key")} for o in outcome.outputs or ()
        ]
        or None,
    }


# -- WebSocket messages (docs/contract.md §4) ---------------------------------------------


def ws_status(request: web.Request, job: Job) -> dict[str, Any]:
    data = {
        "status": job.state.value,
        "progress": progress(job.progress),
        "output_url": output_url(request, job.id, job.state),
        "metadata": webhook.metadata(job.payload),
        "seq": job.progress_seq,
    }
    return {"type": "status", "data": data}


def ws_progress(event: JobEvent) -> dict[str, Any]:
    data = {**progress(event.progress), "timestamp": iso(event.at)}
    return {"type": "progress", "data": {**data, "status": event.state.value, "seq": event.seq}}


def ws_terminal(request: web.Request, job: Job) -> dict[str, Any]:
    """`completed` or `error`; the caller passes the job as stored after it finished."""
    seq = job.progress_seq
    data: dict[str, Any]
    if job.state is JobState.COMPLETED:
        data = {
            "output_url": output_url(request, job.id, job.state),
            "thumbnail_url": output_url(request, job.id, job.state, "thumbnail"),
            "duration": output_duration(job),
            "outputs": outputs(request, job),
            "metadata": webhook.metadata(job.payload),
            "seq": seq,
        }
        return {"type": "completed", "data": data}
    if job.state is JobState.FAILED:
        error = job.error or JobError(code="PROCESSING_FAILED", message="the render failed")
        data = {**error.to_dict(), "status": job.state.value, "seq": seq}
    else:
        data = {
            "code": CANCELLED_CODE,
            "message": "the composition was cancelled",
            "details": {},
            "status": job.state.value,
            "seq": seq,
        }
    return {"type": "error", "data": data}
