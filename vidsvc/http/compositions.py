"""/api/v1/compositions: create (or only plan: dry_run), read, list, cancel, metadata.

Thin: parse → runner → view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc.errors import CompositionFinished, ValidationError
from vidsvc.http import urls, views
from vidsvc.http.bodies import (
    CompositionAcceptedSchema,
    CompositionMetadataSchema,
    CompositionPageSchema,
    CompositionStatusSchema,
    CreateQuerySchema,
    ErrorEnvelopeSchema,
    ListQuerySchema,
)
from vidsvc.http.docs import documented
from vidsvc.http.fromtemplate import composition_of
from vidsvc.http.jsonbody import read_body
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.http.planbody import CompositionPlanSchema
from vidsvc.jobs import JobKind, JobState
from vidsvc.schema import CompositionSchema
from vidsvc.schema.templates import CompositionFromTemplateSchema
from vidsvc.work.compositions.dryrun import WAIT_S

ERROR = ErrorEnvelopeSchema
NOT_FOUND = (ERROR, "COMPOSITION_NOT_FOUND")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or VALIDATION_ERROR naming the field (jsonbody.py: what every
    JSON route refuses at the door, surrogates, NUL, deep nesting and oversized numbers)."""
    raw = await request.read()  # over client_max_size: 413 from aiohttp, enveloped later
    return await read_body(raw)


def load_query(schema: Schema, query: Mapping[str, str]) -> dict[str, Any]:
    """The query through its (documented) schema; VALIDATION_ERROR on the first bad one."""
    try:
        values: dict[str, Any] = schema.load(query)
    except MarshmallowError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"query": exc.messages}
        field, problem = next(iter(messages.items()))
        text = " ".join(problem) if isinstance(problem, list) else str(problem)
        raise ValidationError.at(field, text) from None
    return values


@documented(
    summary="Validate and enqueue a composition (dry_run=true: only plan it)",
    tag="compositions",
    description="With dry_run=true the inputs are staged, probed and measured and the timeline "
    "planned, as the render would, and the answer is 200 with the plan, or the error the render "
    "would fail with (INVALID_CLIP_FORMAT, INVALID_TIMELINE, INPUT_UNAVAILABLE naming the "
    "field). Nothing is stored, queued or rendered; the staged files are deleted before the "
    f"answer. At most MAX_CONCURRENT_JOBS dry runs at once; beyond a {WAIT_S:g} s wait, "
    "QUEUE_FULL. With a template_id, the composition is the template's with each {{NAME}} "
    "replaced by merge's NAME (and output, user_id… replaced when given), then checked as any "
    "other: a placeholder without a value is VALIDATION_ERROR naming the field.",
    body=CompositionSchema,
    body_or=(CompositionFromTemplateSchema,),
    query=CreateQuerySchema,
    responses={
        200: (CompositionPlanSchema, "dry_run=true: the plan; nothing stored or rendered"),
        202: (CompositionAcceptedSchema, "queued; progress on websocket_url"),
        400: (ERROR, "VALIDATION_ERROR, INVALID_TIMELINE, INVALID_CLIP_FORMAT, INPUT_UNAVAILABLE"),
        404: (ERROR, "TEMPLATE_NOT_FOUND: an unknown or deleted template_id"),
        413: (ERROR, "PAYLOAD_TOO_LARGE (the body, or the composition a merge would make)"),
        500: (ERROR, "PROCESSING_FAILED: dry_run=true, probing or planning failed"),
        503: (ERROR, "QUEUE_FULL, SERVICE_UNAVAILABLE (draining), STORAGE_ERROR"),
    },
    headers={202: ("Location",), 503: ("Retry-After",)},
)
async def create(request: web.Request) -> web.Response:
    runner = request.app[RUNNER_KEY]
    dry_run = load_query(CreateQuerySchema(), request.query)["dry_run"]
    document = await composition_of(request, await read_json(request))
    if dry_run:  # no row, no queue: the plan, or the error the render would fail with
        plan = await runner.dry_run(JobKind.COMPOSITION, document)
        return web.json_response({"plan": plan})
    # the origin the client used: the webhook's links point there (or at PUBLIC_BASE_URL)
    job, _ = await runner.submit(JobKind.COMPOSITION, document, origin=str(urls.origin(request)))
    body = views.accepted(request, job, await runner.estimate_seconds(job))
    location = f"{views.COMPOSITIONS}/{job.id}"
    return web.json_response(body, status=202, headers={"Location": location})


@documented(
    summary="List compositions, newest first",
    tag="compositions",
    query=ListQuerySchema,
    responses={200: (CompositionPageSchema, "one page"), 400: (ERROR, "VALIDATION_ERROR")},
)
async def list_compositions(request: web.Request) -> web.Response:
    query = load_query(ListQuerySchema(), request.query)
    state = JobState(query["status"]) if "status" in query else None
    jobs, cursor = await request.app[RUNNER_KEY].list(
        state=state, limit=query["limit"], cursor=query.get("cursor")
    )
    items = [views.composition(request, job) for job in jobs]
    return web.json_response({"items": items, "next_cursor": cursor})


@documented(
    summary="Status and progress of one composition",
    tag="compositions",
    responses={200: (CompositionStatusSchema, "the composition"), 404: NOT_FOUND},
)
async def get_composition(request: web.Request) -> web.Response:
    job = await request.app[RUNNER_KEY].get(JobKind.COMPOSITION, request.match_info["id"])
    return web.json_response(views.composition(request, job))


@documented(
    summary="Cancel a composition",
    tag="compositions",
    description="A queued composition never starts (200, cancelled); a running FFmpeg is "
    "stopped (202 while the stop is pending, then cancelled). Cancelling again is a no-op.",
    responses={
        200: (CompositionStatusSchema, "cancelled"),
        202: (CompositionStatusSchema, "processing; the stop is pending"),
        404: NOT_FOUND,
        409: (ERROR, "COMPOSITION_FINISHED: it already completed or failed"),
    },
)
async def cancel(request: web.Request) -> web.Response:
    job = await request.app[RUNNER_KEY].cancel(JobKind.COMPOSITION, request.match_info["id"])
    if job.state in (JobState.COMPLETED, JobState.FAILED):
        raise CompositionFinished(
            f"composition {job.id} already {job.state.value}",
            details={"status": job.state.value},
        )
    status = 200 if job.state is JobState.CANCELLED else 202
    return web.json_response(views.composition(request, job), status=status)


@documented(
    summary="Timings, probes, command and instance of a composition's render",
    tag="compositions",
    responses={200: (CompositionMetadataSchema, "what the render recorded"), 404: NOT_FOUND},
)
async def metadata(request: web.Request) -> web.Response:
    job = await request.app[RUNNER_KEY].get(JobKind.COMPOSITION, request.match_info["id"])
    return web.json_response(views.metadata(job))
