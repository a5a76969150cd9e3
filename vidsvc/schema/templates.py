"""Templates on the wire: a template's body, and a composition asked for by template_id.

`POST /api/v1/templates` takes {"name", "composition"}: the composition is kept as posted,
placeholders and all (vidsvc.work.compositions.templates checks it as a composition).
`POST /api/v1/compositions` with a `template_id` takes `merge` (a value per placeholder) and,
beside it, only the top-level fields that say how to run the composition rather than what
it shows (OVERRIDES, those CompositionSchema declares): each replaces the template's own,
unscanned. `merged` builds the document that is then validated as any composition.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from vidsvc.errors import ValidationError
from vidsvc.schema import placeholders
from vidsvc.schema.composition import CompositionSchema
from vidsvc.schema.wire import load

#: Top-level fields a request by template_id may give (when the composition has them).
OVERRIDES = ("output", "user_id", "cache", "callback_url", "metadata")


class TemplateRequestSchema(Schema):
    name = fields.String(
        required=True,
        validate=validate.Length(1, 200),
        metadata={"description": "a label for people; not unique", "example": "Product promo"},
    )
    composition = fields.Dict(
        required=True,
        metadata={
            "description": "a composition (the Composition schema) whose string values may "
            "hold {{NAME}} placeholders, NAME matching [A-Z][A-Z0-9_]*; a string that is "
            "exactly one placeholder may stand where a number, a list or an object goes"
        },
    )


def _from_template_fields() -> dict[str, Any]:
    declared = CompositionSchema._declared_fields  # the class's fields, unbound
    given = {name: copy.deepcopy(declared[name]) for name in OVERRIDES if name in declared}
    return {
        "template_id": fields.String(
            required=True,  # any string: one that names no template is TEMPLATE_NOT_FOUND
            metadata={"description": "a template's id (tmpl_…)"},
        ),
        "merge": fields.Dict(
            keys=fields.String(),
            values=fields.Raw(allow_none=True),
            metadata={
                "description": "a JSON value per placeholder name; a whole-value placeholder "
                "takes the value's type, one inside a longer string a string or a number"
            },
        ),
        **given,
    }


#: The body of POST /api/v1/compositions that makes a composition from a template.
CompositionFromTemplateSchema = Schema.from_dict(
    _from_template_fields(), name="CompositionFromTemplateSchema"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FromTemplate:
    """A request by template_id, its shapes checked."""

    template_id: str
    merge: Mapping[str, Any]
    overrides: Mapping[str, Any]  #: top-level fields replacing the template's, as sent


def parse_from_template(document: Mapping[str, Any]) -> FromTemplate:
    """The request, or VALIDATION_ERROR naming the field (a key not allowed beside
    template_id included: the template gives it, or a placeholder in it does)."""
    schema = CompositionFromTemplateSchema()
    for key in document:
        if key not in schema.fields:
            raise ValidationError.at(
                key[:64], "not allowed beside template_id: the template gives it"
            )
    load(schema, document)
    overrides = {k: v for k, v in document.items() if k not in ("template_id", "merge")}
    return FromTemplate(
        template_id=document["template_id"],
        merge=dict(document.get("merge") or {}),
        overrides=overrides,
    )


def merged(
    template: Mapping[str, Any], known: Sequence[str], request: FromTemplate, *, limit: int
) -> dict[str, Any]:
    """The composition `request` makes of `template` (whose placeholders are `known`): its
    overridden fields dropped, every placeholder filled, the overrides set. Refused, before
    anything is built, as placeholders.check_merge says; over `limit` bytes, 413."""
    base = {k: v for k, v in template.items() if k not in request.overrides}
    slots = placeholders.find(base)
    budget = limit - placeholders.size(base) - placeholders.size(dict(request.overrides))
    placeholders.check_merge(slots, request.merge, known, budget=budget)
    filled: dict[str, Any] = placeholders.fill(base, request.merge)
    return {**filled, **request.overrides}
