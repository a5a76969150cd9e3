"""A composition on the wire: clips, output, and the document that holds them all."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.schema.audio import AudioSchema
from vidsvc.schema.grade import grade_field
from vidsvc.schema.narration import DurationField, NarrationFields, narration
from vidsvc.schema.output import OutputSchema
from vidsvc.schema.pictures import OverlayField
from vidsvc.schema.text import CaptionsSchema, FontsField
from vidsvc.schema.webhook import MetadataField, callback_url_field
from vidsvc.schema.wire import FADE_S, Millis, load


class ClipSchema(NarrationFields):
    url = fields.String(required=True, validate=validate.Length(1, 4096))
    start_ms = Millis(data_key="start_time")
    end_ms = Millis(data_key="end_time")
    trim_start_ms = Millis(data_key="trim_start")
    trim_end_ms = Millis(data_key="trim_end")
    transition = fields.String(data_key="transition_in", validate=validate.OneOf(spec.TRANSITIONS))
    transition_ms = Millis(data_key="transition_duration", most=FADE_S)
    volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    color_preset = fields.String(validate=validate.OneOf(spec.COLOR_PRESETS))
    duration_ms = DurationField(data_key="duration")
    fit = fields.String(validate=validate.OneOf(spec.FITS))
    motion = fields.String(validate=validate.OneOf(spec.MOTIONS))
    motion_amount = fields.Float(allow_nan=False, validate=validate.Range(0, 0.5))
    grade = grade_field(
        "this clip's grade, replacing the top-level `grade` whole; null: none for this clip"
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Clip:
        if d.get("transition", "cut") != "cut":  # a transition without a length: the default
            d.setdefault("transition_ms", spec.DEFAULT_TRANSITION_MS)
        if "grade" in d and d["grade"] is None:  # null: ungraded, whatever the default is
            d["grade"] = spec.Grade()
        return spec.Clip(**narration(d))


#: Inline cues or words per composition (a file at captions.url has the same cap).


class CompositionSchema(Schema):
    clips = fields.List(fields.Nested(ClipSchema), required=True)
    overlays = fields.List(
        OverlayField(
            metadata={
                "description": "image/video overlays are drawn in list order over the clips, "
                "text over all of them"
            }
        )
    )
    audio = fields.Nested(AudioSchema)
    output = fields.Nested(OutputSchema)
    color_preset = fields.String(validate=validate.OneOf(spec.COLOR_PRESETS))
    user_id = fields.String(allow_none=True, validate=validate.Length(1, 128))
    #: false: render afresh instead of reusing an identical earlier render (the render cache,
    #: vidsvc/work/compositions/cache.py; it changes no output).
    cache = fields.Boolean(truthy={True}, falsy={False})
    captions = fields.Nested(CaptionsSchema)
    fonts = FontsField()
    grade = grade_field("every clip's grade, unless the clip has its own `grade`")
    #: beside the composition, not in it (schema/webhook.py): `build` leaves them out
    callback_url = callback_url_field()
    metadata = MetadataField()

    @validates_schema
    def _captions_source(self, d: dict[str, Any], **_: Any) -> None:
        cap: spec.Captions | None = d.get("captions")
        if cap is None or cap.url or cap.cues or cap.words:
            return
        if not any(c.voiceover_text or c.voiceover_words for c in d.get("clips", ())):
            why = (
                "give one of url, cues or words, or clips[].voiceover_text / voiceover_words "
                "to caption the narrations"
            )
            raise MarshmallowError({"captions": {"url": [why]}})

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Composition:
        return spec.Composition(
            clips=tuple(d["clips"]),
            overlays=tuple(d.get("overlays", ())),
            audio=d.get("audio", spec.Audio()),
            output=d.get("output", spec.Output()),
            color_preset=d.get("color_preset", "none"),
            user_id=d.get("user_id"),
            cache=d.get("cache", True),
            captions=d.get("captions"),
            fonts=tuple(d.get("fonts", ())),
            grade=d.get("grade"),
        )


def parse_composition(document: Any) -> spec.Composition:
    """Build a Composition from decoded JSON, or raise ValidationError naming every bad field."""
    result: spec.Composition = load(CompositionSchema(), document)
    return result
