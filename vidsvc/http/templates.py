"""/api/v1/templates: save a composition with placeholders, list, read and delete templates.

Thin: parse → check as a composition (off the loop) → store → body. A composition is made from
one by POST /api/v1/compositions with a template_id (fromtemplate.py).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from vidsvc.config import Settings
from vidsvc.errors import VidsvcError
from vidsvc.http import templatebody
from vidsvc.http.bodies import ErrorEnvelopeSchema
from vidsvc.http.compositions import load_query, read_json
from vidsvc.http.docs import documented
from vidsvc.http.fromtemplate import PLAUSIBLE_ID, find, not_found
from vidsvc.http.keys import RUNNER_KEY, SETTINGS_KEY
from vidsvc.http.templatebody import (
    TemplateListQuerySchema,
    TemplatePageSchema,
    TemplateSchema,
    TemplateSummarySchema,
)
from vidsvc.jobs import utcnow
from vidsvc.media import cpu
from vidsvc.schema.templates import TemplateRequestSchema
from vidsvc.schema.wire import load
from vidsvc.store.base import Template, new_template_id
from vidsvc.work.compositions.templates import check_template

PATH = templatebody.TEMPLATES
ITEM = PATH + "/{template_id}"
ERROR = ErrorEnvelopeSchema
NOT_FOUND = (ERROR, "TEMPLATE_NOT_FOUND")
STORAGE = (ERROR, "STORAGE_ERROR: the database is unavailable")
RETRY = {503: ("Retry-After",)}


def _checked(composition: dict[str, Any], settings: Settings) -> tuple[str, ...]:
    """check_template, its refusals naming fields within the body (composition.clips…)."""
    try:
        return check_template(composition, settings)
    except VidsvcError as exc:
        field = exc.details.get("field")
        if not isinstance(field, str) or not exc.message.startswith(field):
            raise
        raise type(exc)(_within(exc.message), details=_within_details(exc.details)) from None


def _within(text: str) -> str:
    return f"composition.{text}"


def _within_details(details: dict[str, Any]) -> dict[str, Any]:
    """The field, every field of `fields` (the schema's) and of `issues` (the timeline's)."""
    out = {**details, "field": _within(details["field"])}
    if isinstance(fields := details.get("fields"), dict):
        out["fields"] = {_within(k): v for k, v in fields.items()}
    if isinstance(issues := details.get("issues"), list):
        out["issues"] = [
            {**i, "field": _within(i["field"]), "message": _within(i["message"])} for i in issues
        ]
    return out


@documented(
    summary="Save a composition with {{NAME}} placeholders as a template",
    tag="templates",
    description="The composition is checked as POST /api/v1/compositions checks one, its "
    "placeholders aside (docs/api.md, Templates): a malformed placeholder ({{name}}, {{A-B}}, "
    "{{ }}) or any other refusal is a 400 naming the field (composition.clips[0].url).",
    body=TemplateRequestSchema,
    responses={
        201: (TemplateSummarySchema, "saved"),
        400: (ERROR, "VALIDATION_ERROR, INVALID_TIMELINE, INVALID_CLIP_FORMAT"),
        413: (ERROR, "PAYLOAD_TOO_LARGE"),
        503: STORAGE,
    },
    headers={201: ("Location",), **RETRY},
)
async def create(request: web.Request) -> web.Response:
    body = await read_json(request)
    asked = load(TemplateRequestSchema(), body)
    names = await cpu.run(_checked, asked["composition"], request.app[SETTINGS_KEY])
    template = Template(
        id=new_template_id(),
        name=asked["name"],
        composition=asked["composition"],
        placeholders=names,
        created_at=utcnow(),
    )
    saved = await request.app[RUNNER_KEY].templates.create(template)
    location = f"{PATH}/{saved.id}"
    return web.json_response(
        templatebody.summary(saved), status=201, headers={"Location": location}
    )


@documented(
    summary="List templates, newest first",
    tag="templates",
    query=TemplateListQuerySchema,
    responses={
        200: (TemplatePageSchema, "one page (without the compositions)"),
        400: (ERROR, "VALIDATION_ERROR"),
        503: STORAGE,
    },
    headers=RETRY,
)
async def list_templates(request: web.Request) -> web.Response:
    query = load_query(TemplateListQuerySchema(), request.query)
    limit, cursor = query["limit"], query.get("cursor")
    before = cursor if cursor and PLAUSIBLE_ID.fullmatch(cursor) else None
    page = await request.app[RUNNER_KEY].templates.list(limit=limit + 1, before=before)
    if cursor and before is None:
        page = []  # a cursor that is not one of ours: as an unknown one, an empty page
    more, page = len(page) > limit, page[:limit]
    items = [templatebody.summary(t) for t in page]
    return web.json_response({"items": items, "next_cursor": page[-1].id if more else None})


@documented(
    summary="One template, with its composition",
    tag="templates",
    responses={200: (TemplateSchema, "the template"), 404: NOT_FOUND, 503: STORAGE},
    headers=RETRY,
)
async def get_template(request: web.Request) -> web.Response:
    template = await find(request, request.match_info["template_id"])
    return web.json_response(templatebody.full(template))


@documented(
    summary="Delete a template",
    tag="templates",
    description="Compositions already made from it are not touched; a POST naming it "
    "afterwards is 404 TEMPLATE_NOT_FOUND.",
    responses={204: (None, "deleted"), 404: NOT_FOUND, 503: STORAGE},
    headers=RETRY,
)
async def delete_template(request: web.Request) -> web.Response:
    template_id = request.match_info["template_id"]
    store = request.app[RUNNER_KEY].templates
    if not (PLAUSIBLE_ID.fullmatch(template_id) and await store.delete(template_id)):
        raise not_found(template_id)
    return web.Response(status=204)
