"""A POST's composition: the body itself, or, given a `template_id`, the one its template and
`merge` make (docs/api.md#templates). Read before anything else of the POST, so what follows
(validation, dry run, the job's row) sees an ordinary composition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from vidsvc.errors import TemplateNotFound
from vidsvc.http.jsonbody import check
from vidsvc.http.keys import RUNNER_KEY, SETTINGS_KEY
from vidsvc.media import cpu
from vidsvc.schema.templates import FromTemplate, merged, parse_from_template
from vidsvc.store.base import Template

#: Ids are ours (tmpl_ + hex): anything else is unknown without asking the database.
PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9_]{1,64}")


def not_found(template_id: str) -> TemplateNotFound:
    shown = template_id[:80]
    return TemplateNotFound(f"template {shown!r} does not exist", details={"template_id": shown})


async def find(request: web.Request, template_id: str) -> Template:
    """The template, or TEMPLATE_NOT_FOUND naming the id."""
    store = request.app[RUNNER_KEY].templates
    found = await store.get(template_id) if PLAUSIBLE_ID.fullmatch(template_id) else None
    if found is None:
        raise not_found(template_id)
    return found


async def composition_of(request: web.Request, document: Mapping[str, Any]) -> dict[str, Any]:
    """The composition the POST asks for (its body unless it names a template_id)."""
    if "template_id" not in document:
        return dict(document)
    asked = parse_from_template(document)
    template = await find(request, asked.template_id)
    return await cpu.run(_made, template, asked, request.app[SETTINGS_KEY].max_body_bytes)


def _made(template: Template, asked: FromTemplate, limit: int) -> dict[str, Any]:
    """Off the loop: a merge may build up to MAX_BODY_BYTES of document."""
    made = merged(template.composition, template.placeholders, asked, limit=limit)
    check(made)  # what the body's reader refuses: a merged object may nest past MAX_JSON_DEPTH
    return made
