"""The dry run's answer (`POST /api/v1/compositions?dry_run=true`) as the OpenAPI document shows
it: beside bodies.py, which it would push past a screenful of schemas. The body is built by
work/compositions/dryrun.py `plan_json`; the tests load it through these schemas."""

from __future__ import annotations

from marshmallow import Schema, fields


def _seconds(description: str, *, allow_none: bool = False) -> fields.Float:
    return fields.Float(
        required=True, allow_none=allow_none, metadata={"description": description}
    )


class PlanVoiceoverSchema(Schema):
    start_time = _seconds("where the clip's narration starts on the output")
    end_time = _seconds("where its audible part ends (trailing silence left out)")
    heard_until = _seconds("where the file stops sounding: its end, or its clip's")


class PlanClipSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "clips[index]"})
    url = fields.String(required=True)
    start_time = _seconds("placement on the output timeline")
    end_time = _seconds("start_time + the clip's length (extended_by included)")
    trim_start = _seconds("where the source range shown starts")
    trim_end = _seconds("where it ends: the source shown, the extension left out")
    transition_in = fields.String(required=True)
    transition_duration = _seconds("0 for a cut")
    extended_by = _seconds("how much longer the clip lasts than its source range (a narration)")
    extend = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "how the extension is made (hold, loop, slow); null if none"},
    )
    voiceover = fields.Nested(
        PlanVoiceoverSchema,
        required=True,
        allow_none=True,
        metadata={"description": "the clip's narration; null when it has none"},
    )


class PlanRenditionSchema(Schema):
    aspect_ratio = fields.String(required=True, metadata={"description": "e.g. 16:9"})
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)


class PlanSchema(Schema):
    duration = _seconds("the output's length")
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    fps = fields.Integer(required=True)
    clips = fields.List(fields.Nested(PlanClipSchema), required=True)
    renditions = fields.List(
        fields.Nested(PlanRenditionSchema),
        required=True,
        metadata={
            "description": "the outputs rendered: each of output.renditions[], or the "
            "composition's `output`"
        },
    )
    warnings = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "what the plan did that the request did not say"},
    )
    estimated_duration = _seconds(
        "the estimate a POST would answer now (seconds until completed)", allow_none=True
    )


class CompositionPlanSchema(Schema):
    plan = fields.Nested(PlanSchema, required=True)
