"""Marshmallow schemas of what the clip-processing API answers (POST and GET
/internal/v1/process-clips), for the OpenAPI document; the composition's are in bodies.py."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from vidsvc.http.bodies import (
    STATES,
    JobErrorSchema,
    ProbeSummarySchema,
    ProgressSchema,
    text_field,
    time_field,
)


class ClipsAcceptedSchema(Schema):
    processing_id = text_field("the client's id, which is the job's", required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATES))
    created_at = time_field("when the request was first accepted")
    status_url = text_field("absolute URL of GET /internal/v1/process-clips/{id}", required=True)


class ClipOutputsSchema(Schema):
    normalized = text_field("absolute URL redirecting to the MP4")
    color_corrected = text_field("absolute URL; only when color_correct ran without normalize")
    thumbnail = text_field("absolute URL redirecting to the JPEG (640 wide)")
    contact_sheet = text_field("absolute URL redirecting to the 3x3 JPEG grid")


class RenderReadySchema(Schema):
    extradata_sha256 = text_field("SHA-256 of the avcC bytes (SPS/PPS) a splice must share")
    x264_options = fields.String(allow_none=True, metadata={"description": "as x264 wrote them"})
    crf = fields.Float(allow_none=True)
    frames = fields.Integer()
    keyframe_interval = fields.Integer(metadata={"description": "frames between IDRs"})


class ClipResultSchema(Schema):
    clip = text_field("the input URL", required=True)
    outputs = fields.Nested(ClipOutputsSchema, required=True)
    probe = fields.Nested(ProbeSummarySchema, required=True)
    render_ready = fields.Nested(
        RenderReadySchema, allow_none=True,
        metadata={"description": "the video output's render-ready fingerprint; "
                  "null when there is no video output or it is not render-ready"},
    )  # fmt: skip


class CallbackStateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    url = fields.String(required=True, allow_none=True)
    attempts = fields.List(fields.Dict(), required=True)
    delivered = fields.Boolean(required=True)


class ClipsStatusSchema(Schema):
    processing_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATES))
    progress = fields.Nested(ProgressSchema, required=True)
    created_at = time_field("accepted")
    updated_at = time_field("last change")
    operations = fields.List(fields.String(), required=True)
    results = fields.List(
        fields.Nested(ClipResultSchema), required=True, allow_none=True,
        metadata={"description": "one per clip, in order; null until completed"},
    )  # fmt: skip
    error = fields.Nested(JobErrorSchema, required=True, allow_none=True)
    callback = fields.Nested(CallbackStateSchema, required=True, allow_none=True)
