"""Text on the wire: text overlays, their style, captions (url, cues, words) and brought fonts."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.schema.wire import FADE_S, FONT_NAME, MAX_SECONDS, ColorField, Millis, PositionSchema


class TextStyleSchema(Schema):
    font = fields.String(validate=validate.Regexp(FONT_NAME))
    size = fields.Integer(strict=True, validate=validate.Range(4, 400))
    color = ColorField()
    shadow = fields.Boolean()
    shadow_color = ColorField()
    box = fields.Boolean()
    box_color = ColorField()
    box_padding = fields.Integer(strict=True, validate=validate.Range(0, 200))
    outline = fields.Integer(strict=True, validate=validate.Range(0, 50))
    outline_color = ColorField()
    fade_in_ms = Millis(data_key="fade_in", most=FADE_S)
    fade_out_ms = Millis(data_key="fade_out", most=FADE_S)
    max_width = fields.Integer(
        strict=True,
        validate=validate.Range(16, 7680),
        metadata={"description": "Wrap width in pixels (default: frame minus safe margins)"},
    )
    align = fields.String(
        validate=validate.OneOf(spec.TEXT_ALIGNS),
        metadata={"description": "Line alignment (default: follows position.x)"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.TextStyle:
        return spec.TextStyle(**d)


class OverlaySchema(Schema):
    type = fields.String(load_default="text", validate=validate.OneOf(["text"]))
    content = fields.String(required=True)
    position = fields.Nested(PositionSchema)
    start_ms = Millis(data_key="start_time")
    duration_ms = Millis(data_key="duration")
    style = fields.Nested(TextStyleSchema)
    animation = fields.String(
        validate=validate.OneOf(spec.ANIMATIONS),
        metadata={"description": "How the text enters", "example": "pop"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.TextOverlay:
        d.pop("type")
        return spec.TextOverlay(text=d.pop("content"), **d.pop("position", {}), **d)


MAX_CUES = 5000
MAX_CUE_CHARS = 1000


class CueSchema(Schema):
    start = fields.Float(required=True, allow_nan=False, validate=validate.Range(0, MAX_SECONDS))
    end = fields.Float(required=True, allow_nan=False, validate=validate.Range(0, MAX_SECONDS))
    text = fields.String(required=True, validate=validate.Length(1, MAX_CUE_CHARS))

    @validates_schema
    def ordered(self, d: dict[str, Any], **_: Any) -> None:
        if d["end"] <= d["start"]:
            raise MarshmallowError("end must be after start", field_name="end")
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in d["text"]):
            raise MarshmallowError(
                "contains an unpaired surrogate (not valid Unicode text)", field_name="text"
            )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Cue:
        return spec.Cue(
            start_ms=round(d["start"] * 1000), end_ms=round(d["end"] * 1000), text=d["text"]
        )


class CaptionStyleSchema(TextStyleSchema):
    """Overlay style plus the spoken word's colour (used by mode `highlight`)."""

    highlight_color = ColorField(metadata={"description": "The spoken word's colour"})


class CaptionsSchema(Schema):
    url = fields.String(
        validate=validate.Length(1, 4096),
        metadata={
            "description": "An SRT or WebVTT file (input URL rules)",
            "example": "s3://b/voice.srt",
        },
    )
    cues = fields.List(
        fields.Nested(CueSchema),
        validate=validate.Length(1, MAX_CUES),
        metadata={
            "description": "Caption lines with their times (seconds)",
            "example": [{"start": 0.0, "end": 2.5, "text": "Hello and welcome"}],
        },
    )
    words = fields.List(
        fields.Nested(CueSchema),
        validate=validate.Length(1, MAX_CUES),
        metadata={
            "description": "Word timings (e.g. from text-to-speech), grouped into short lines",
            "example": [
                {"start": 0.0, "end": 0.4, "text": "Hello"},
                {"start": 0.4, "end": 0.9, "text": "world"},
            ],
        },
    )
    mode = fields.String(
        validate=validate.OneOf(spec.CAPTION_MODES),
        metadata={"description": "lines (default), highlight or word", "example": "highlight"},
    )
    position = fields.String(
        validate=validate.OneOf(spec.CAPTION_POSITIONS),
        metadata={"description": "bottom (default), center or top", "example": "bottom"},
    )
    offset_ms = Millis(
        data_key="offset",
        least=-MAX_SECONDS,
        metadata={"description": "Seconds added to every caption time", "example": 0.0},
    )
    style = fields.Nested(CaptionStyleSchema)

    @validates_schema
    def one_source(self, d: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("url", "cues", "words") if k in d]
        if len(given) > 1:  # none: captions of the narrations (the composition checks)
            raise MarshmallowError("give at most one of url, cues or words", field_name="url")

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Captions:
        cues, words = tuple(d.pop("cues", ())), tuple(d.pop("words", ()))
        return spec.Captions(**d, cues=cues, words=words)


MAX_FONTS = 10


class FontSourceSchema(Schema):
    family = fields.String(
        required=True,
        validate=validate.Regexp(FONT_NAME),
        metadata={"description": "The name style.font uses for it", "example": "Brand Sans"},
    )
    url = fields.String(
        required=True,
        validate=validate.Length(1, 4096),
        metadata={
            "description": "A TTF or OTF file (input URL rules)",
            "example": "s3://b/Brand.ttf",
        },
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.FontSource:
        return spec.FontSource(family=d["family"], url=d["url"])


class FontsField(fields.List[spec.FontSource]):
    """`fonts[]`: at most MAX_FONTS, each family once. Families are compared without case, as
    fontconfig and libass compare names, so "brand" after "Brand" is refused naming the later
    `fonts[j].family` rather than one of them silently drawn."""

    def __init__(self) -> None:
        super().__init__(
            fields.Nested(FontSourceSchema),
            validate=validate.Length(0, MAX_FONTS),
            metadata={"description": "Fonts for style.font, each family once (case ignored)"},
        )

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kw: Any
    ) -> list[spec.FontSource | None]:
        fonts = super()._deserialize(value, attr, data, **kw)
        first: dict[str, int] = {}
        for j, font in enumerate(fonts):
            if font is None:  # not given: the list's own checks refuse it
                continue
            at = first.setdefault(font.family.casefold(), j)
            if at != j:
                why = f"the family of fonts[{at}] (names are compared without case)"
                raise MarshmallowError({j: {"family": [why]}})
        return fonts
