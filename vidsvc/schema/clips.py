"""The internal clip-processing request on the wire (POST /internal/v1/process-clips)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate
from marshmallow import ValidationError as MarshmallowError

from vidsvc import cliptask
from vidsvc.schema.wire import Millis, load


class ClipOptionsSchema(Schema):
    color_preset = fields.String(validate=validate.OneOf(cliptask.CLIP_COLOR_PRESETS))
    contact_sheet = fields.Boolean()
    thumbnail_ms = Millis(data_key="thumbnail_time")


def no_duplicates(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise MarshmallowError("must not repeat an operation")


class ClipTaskSchema(Schema):
    processing_id = fields.String(
        required=True, validate=validate.Regexp(cliptask.PROCESSING_ID_PATTERN)
    )
    clips = fields.List(
        fields.String(validate=validate.Length(1, 4096)),
        required=True,
        validate=validate.Length(1, 20),
    )
    operations = fields.List(
        fields.String(validate=validate.OneOf(cliptask.CLIP_OPERATIONS)),
        required=True,
        validate=[validate.Length(min=1), no_duplicates],
    )
    callback_url = fields.String(allow_none=True, validate=validate.Length(1, 2048))
    options = fields.Nested(ClipOptionsSchema)
    user_id = fields.String(allow_none=True, validate=validate.Length(1, 128))

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> cliptask.ClipTask:
        options = d.get("options", {})
        return cliptask.ClipTask(
            processing_id=d["processing_id"],
            clips=tuple(d["clips"]),
            operations=tuple(d["operations"]),
            callback_url=d.get("callback_url"),
            color_preset=options.get("color_preset", "auto"),
            contact_sheet=options.get("contact_sheet", False),
            thumbnail_ms=options.get("thumbnail_ms"),
            user_id=d.get("user_id"),
        )


def parse_clip_task(document: Any) -> cliptask.ClipTask:
    """Build a ClipTask from decoded JSON, or raise ValidationError naming every bad field."""
    result: cliptask.ClipTask = load(ClipTaskSchema(), document)
    return result
