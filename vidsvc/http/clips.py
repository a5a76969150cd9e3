"""/internal/v1/process-clips: submit (idempotent by processing_id), status, output redirects.

Thin like compositions.py: parse → runner → body. Result links point at this app
(`…/files/{index}/{name}`), which 302s to the blob, so a status body stays valid after a
presigned URL would have expired. Bearer auth is auth.py's middleware.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from vidsvc.errors import CompositionNotReady, RouteNotFound
from vidsvc.http import urls
from vidsvc.http.clipsbody import ClipsAcceptedSchema, ClipsStatusSchema
from vidsvc.http.compositions import ERROR, read_json
from vidsvc.http.docs import documented
from vidsvc.http.downloads import redirect_to_blob
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.http.views import iso, progress
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.schema import ClipTaskSchema
from vidsvc.work.clips.outcome import ClipsOutcome

PROCESS_CLIPS = "/internal/v1/process-clips"
PROCESSING = PROCESS_CLIPS + "/{id}"
NOT_FOUND = (ERROR, "PROCESSING_NOT_FOUND")
UNAUTHORIZED = (ERROR, "UNAUTHORIZED: INTERNAL_API_TOKEN is set and the bearer token is not it")


def _results(request: web.Request, job: Job) -> list[dict[str, Any]] | None:
    if job.state is not JobState.COMPLETED:
        return None
    results: list[dict[str, Any]] = []
    for index, item in enumerate(ClipsOutcome.from_dict(job.metadata).results):
        base = f"{PROCESS_CLIPS}/{job.id}/files/{index}"
        links = {name: urls.absolute(request, f"{base}/{name}") for name in item.outputs}
        results.append({**item.to_dict(), "outputs": links})
    return results


def _callback(job: Job) -> dict[str, Any] | None:
    url = job.payload.get("callback_url")
    if not url:
        return None
    recorded = ClipsOutcome.from_dict(job.metadata).callback
    return {**recorded.to_dict(), "url": url}


def status(request: web.Request, job: Job) -> dict[str, Any]:
    return {
        "processing_id": job.id,
        "status": job.state.value,
        "progress": progress(job.progress),
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "operations": list(job.payload.get("operations", [])),
        "results": _results(request, job),
        "error": job.error.to_dict() if job.state is JobState.FAILED and job.error else None,
        "callback": _callback(job),
    }


@documented(
    summary="Post-process raw clips (normalize, color_correct, thumbnail)",
    tag="internal",
    description="Idempotent by processing_id: posting an id again answers 200 with that job. "
    "Needs `Authorization: Bearer <INTERNAL_API_TOKEN>` when that setting is non-empty.",
    body=ClipTaskSchema,
    responses={
        200: (ClipsAcceptedSchema, "this processing_id exists already; its current state"),
        202: (ClipsAcceptedSchema, "queued"),
        400: (ERROR, "VALIDATION_ERROR, INVALID_CLIP_FORMAT (naming the field)"),
        401: UNAUTHORIZED,
        413: (ERROR, "PAYLOAD_TOO_LARGE"),
        503: (ERROR, "QUEUE_FULL, SERVICE_UNAVAILABLE (draining), STORAGE_ERROR"),
    },
    headers={202: ("Location",), 503: ("Retry-After",)},
)
async def create(request: web.Request) -> web.Response:
    job, created = await request.app[RUNNER_KEY].submit(JobKind.CLIPS, await read_json(request))
    location = f"{PROCESS_CLIPS}/{job.id}"
    body = {
        "processing_id": job.id,
        "status": job.state.value,
        "created_at": iso(job.created_at),
        "status_url": urls.absolute(request, location),
    }
    headers = {"Location": location} if created else None
    return web.json_response(body, status=202 if created else 200, headers=headers)


@documented(
    summary="Status, results and callback deliveries of a processing job",
    tag="internal",
    responses={200: (ClipsStatusSchema, "the job"), 401: UNAUTHORIZED, 404: NOT_FOUND},
)
async def get_processing(request: web.Request) -> web.Response:
    job = await request.app[RUNNER_KEY].get(JobKind.CLIPS, request.match_info["id"])
    return web.json_response(status(request, job))


@documented(
    summary="Redirect to one output of one processed clip",
    tag="internal",
    responses={
        302: (None, "Location: the file (presigned on S3, else a signed /files URL)"),
        401: UNAUTHORIZED,
        404: (ERROR, "PROCESSING_NOT_FOUND, NOT_FOUND (no such output)"),
        409: (ERROR, "COMPOSITION_NOT_READY: the job has not completed"),
    },
)
async def download(request: web.Request) -> web.Response:
    job = await request.app[RUNNER_KEY].get(JobKind.CLIPS, request.match_info["id"])
    if job.state is not JobState.COMPLETED:
        raise CompositionNotReady(
            f"processing job {job.id} is {job.state.value}; outputs exist once it completes",
            details={"status": job.state.value},
        )
    results = ClipsOutcome.from_dict(job.metadata).results
    index, name = int(request.match_info["index"]), request.match_info["name"]
    key = results[index].outputs.get(name) if index < len(results) else None
    if not key:
        raise RouteNotFound(f"clip {index} has no output {name[:40]!r}")
    return await redirect_to_blob(request, key)
