"""The templates' answers and list query (for the OpenAPI document, and the query's parser),
and the functions that build the answers from a stored Template.

The request body is vidsvc.schema.templates.TemplateRequestSchema. As in bodies.py, the tests
load every answer through these schemas, so they cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from vidsvc.http.views import iso
from vidsvc.store.base import Template

TEMPLATES = "/api/v1/templates"


class TemplateSummarySchema(Schema):
    template_id = fields.String(required=True, metadata={"description": "tmpl_…"})
    name = fields.String(required=True)
    placeholders = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the {{NAME}} placeholders' names, in order of first use"},
    )
    created_at = fields.DateTime(required=True)


class TemplateSchema(TemplateSummarySchema):
    composition = fields.Dict(
        required=True, metadata={"description": "the composition as it was saved"}
    )


class TemplatePageSchema(Schema):
    items = fields.List(fields.Nested(TemplateSummarySchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "pass as ?cursor= for the next page"},
    )


class TemplateListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache-busters and the like are not errors

    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(
        validate=validate.Length(1, 128),
        metadata={"description": "next_cursor of the previous page"},
    )


def summary(template: Template) -> dict[str, Any]:
    """A template in the list, and the 201 of POST /api/v1/templates."""
    return {
        "template_id": template.id,
        "name": template.name,
        "placeholders": list(template.placeholders),
        "created_at": iso(template.created_at),
    }


def full(template: Template) -> dict[str, Any]:
    """GET /api/v1/templates/{template_id}."""
    return {**summary(template), "composition": dict(template.composition)}
