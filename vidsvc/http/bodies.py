"""Marshmallow schemas of what the API answers (for the OpenAPI document) and of its queries.

Request bodies reuse vidsvc.schema (the composition); the clip-processing API's answers are in
clipsbody.py, the dry run's plan in planbody.py. The query schemas also parse: the
document and the parser cannot drift apart. Response bodies are built by views.py; the tests
load every body through these schemas, so they cannot drift either.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from vidsvc.jobs import JobState, Stage

STATES = [s.value for s in JobState]
HEALTH = ["healthy", "unhealthy", "disabled"]


def text_field(description: str, **kw: Any) -> fields.String:
    return fields.String(metadata={"description": description}, **kw)


def time_field(description: str, *, allow_none: bool = False) -> fields.DateTime:
    return fields.DateTime(
        required=True, allow_none=allow_none, metadata={"description": description}
    )


class ProgressSchema(Schema):
    stage = fields.String(
        required=True,
        validate=validate.OneOf([s.value for s in Stage]),
        metadata={"description": "where the job is; the running stages fill bands of percentage"},
    )
    percentage = fields.Float(required=True, validate=validate.Range(0, 100))
    message = fields.String(required=True)
    eta_seconds = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "seconds until encoding ends (output time left / render speed); "
            "null outside encoding or before FFmpeg reports a speed"
        },
    )
    speed = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "render speed, output seconds per wall second; null if unknown"},
    )


class JobErrorSchema(Schema):
    code = text_field("an error code of the Errors table", required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorBodySchema(Schema):
    code = text_field("stable error code, e.g. INVALID_TIMELINE", required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "e.g. field, retry_after"})
    timestamp = fields.DateTime(required=True)
    request_id = fields.String(required=True, allow_none=True)


class ErrorEnvelopeSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class CompositionAcceptedSchema(Schema):
    composition_id = text_field("comp_…", required=True)
    status = fields.String(required=True, validate=validate.OneOf(["queued"]))
    created_at = time_field("when the request was accepted")
    estimated_duration = fields.Float(
        required=True, metadata={"description": "seconds, from measured throughput"}
    )
    websocket_url = text_field("absolute ws:// or wss:// URL of the progress feed", required=True)
    status_url = text_field("absolute URL of GET /api/v1/compositions/{id}", required=True)


class RenditionOutputSchema(Schema):
    rendition = fields.Integer(
        required=True, metadata={"description": "its place in output.renditions[]"}
    )
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    format = fields.String(required=True, metadata={"description": "output.format"})
    duration = fields.Float(required=True, allow_none=True)
    output_url = text_field("…/download?rendition=N: a redirect to the file", required=True)
    thumbnail_url = text_field("…/download?file=thumbnail&rendition=N", required=True)


class CompositionStatusSchema(Schema):
    composition_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATES))
    progress = fields.Nested(ProgressSchema, required=True)
    created_at = time_field("accepted")
    updated_at = time_field("last change")
    started_at = time_field("first claimed by a worker", allow_none=True)
    finished_at = time_field("reached a terminal status", allow_none=True)
    output_url = text_field(
        "the download URL; null until completed", required=True, allow_none=True
    )
    thumbnail_url = text_field("null until completed", required=True, allow_none=True)
    error = fields.Nested(JobErrorSchema, required=True, allow_none=True)
    attempts = fields.Integer(required=True)
    cancel_requested = fields.Boolean(required=True)
    user_id = fields.String(required=True, allow_none=True)
    websocket_url = fields.String(required=True)
    duration = fields.Float(
        allow_none=True, metadata={"description": "seconds of the output; null until completed"}
    )
    outputs = fields.List(
        fields.Nested(RenditionOutputSchema),
        allow_none=True,
        metadata={
            "description": "every rendition (one without output.renditions); null until completed"
        },
    )
    metadata = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "the request's metadata object as accepted; null if none"},
    )


class CompositionPageSchema(Schema):
    items = fields.List(fields.Nested(CompositionStatusSchema), required=True)
    next_cursor = text_field("pass as ?cursor= for the next page", required=True, allow_none=True)


class ProbeSummarySchema(Schema):
    duration = fields.Float(allow_none=True)
    format = fields.String(allow_none=True)
    video = fields.String(allow_none=True)
    audio = fields.String(allow_none=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    fps = fields.Float(allow_none=True)
    rotation = fields.Integer(allow_none=True)
    streams = fields.Integer(allow_none=True)
    render_ready = fields.Boolean(
        metadata={"description": "encoded like a normalized clip (fixed IDR grid, pinned "
                  "parameters, bt709): a later composition may splice its GOPs"},
    )  # fmt: skip
    keyframe_interval = fields.Integer(
        allow_none=True, metadata={"description": "frames between IDRs, when render_ready"}
    )


class CompositionMetadataSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the worker may record more than is documented

    composition_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATES))
    timings = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    inputs = fields.Dict(keys=fields.String(), values=fields.Nested(ProbeSummarySchema))
    output = fields.Nested(ProbeSummarySchema, required=True, allow_none=True)
    command = fields.List(fields.String(), required=True, allow_none=True)
    ffmpeg_version = fields.String(required=True, allow_none=True)
    attempts = fields.Integer(required=True)
    instance = text_field("the instance that ran it", required=True, allow_none=True)
    created_at = time_field("accepted")
    started_at = time_field("first claimed", allow_none=True)
    finished_at = time_field("finished", allow_none=True)
    error = fields.Nested(JobErrorSchema, required=True, allow_none=True)
    outputs = fields.List(
        fields.Dict(),
        allow_none=True,
        metadata={
            "description": "each rendition's rendition, width, height, format and "
            "duration; null until completed"
        },
    )


class HealthSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["healthy"]))


class ComponentsSchema(Schema):
    database = fields.String(required=True, validate=validate.OneOf(HEALTH))
    redis = fields.String(required=True, validate=validate.OneOf(HEALTH))
    s3 = fields.String(required=True, validate=validate.OneOf(HEALTH))
    ffmpeg = fields.String(required=True, validate=validate.OneOf(HEALTH))


class EncoderCheckSchema(Schema):
    result = fields.String(required=True, validate=validate.OneOf(["passed", "not run"]))
    at = fields.DateTime(metadata={"description": "when the one-frame NVENC encode passed"})
    seconds = fields.Float(metadata={"description": "how long it took"})


class EncoderSessionsSchema(Schema):
    in_use = fields.Integer(required=True, metadata={"description": "NVENC runs now"})
    max = fields.Integer(required=True, metadata={"description": "NVENC_MAX_SESSIONS"})
    waiting = fields.Integer(required=True, metadata={"description": "renders waiting"})
    gave_up = fields.Integer(
        required=True,
        metadata={"description": "runs whose session failed, encoded again with libx264"},
    )


class EncoderSchema(Schema):
    name = fields.String(required=True, validate=validate.OneOf(["libx264", "h264_nvenc"]))
    check = fields.Nested(EncoderCheckSchema, metadata={"description": "h264_nvenc only"})
    sessions = fields.Nested(EncoderSessionsSchema, metadata={"description": "h264_nvenc only"})


class HealthDetailedSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(["healthy", "unhealthy", "draining"])
    )
    components = fields.Nested(ComponentsSchema, required=True)
    version = fields.String(required=True)
    timestamp = fields.DateTime(required=True)
    instance = fields.String(required=True)
    encoder = fields.Nested(EncoderSchema, required=True)


class WsMessageSchema(Schema):
    """One JSON text frame of WS /ws/compositions/{id} (see the operation's description)."""

    type = fields.String(
        required=True, validate=validate.OneOf(["status", "progress", "completed", "error"])
    )
    data = fields.Dict(required=True)


# -- queries ------------------------------------------------------------------------------


class ListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache-busters and the like are not errors

    status = fields.String(validate=validate.OneOf(STATES))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = text_field("next_cursor of the previous page", validate=validate.Length(1, 128))


class CreateQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    dry_run = fields.Boolean(
        load_default=False,
        truthy={"true"},
        falsy={"false"},
        metadata={"description": "true: stage, probe and plan the composition and answer 200 "
                  "with the plan; nothing is stored, queued or rendered"},
    )  # fmt: skip


class DownloadQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    file = fields.String(load_default="video", validate=validate.OneOf(["video", "thumbnail"]))
    rendition = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 1000),
        metadata={"description": "which of output.renditions[] (default 0, the first)"},
    )


class FileQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    expires = text_field("unix seconds", required=True)
    signature = text_field("HMAC-SHA256, hex", required=True)
