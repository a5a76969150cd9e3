"""The composition's wire format: marshmallow schemas that check shapes and build spec values.

Seconds on the wire become integer milliseconds here. Unknown fields, wrong types, NaN and
unknown enum values are VALIDATION_ERROR; the timeline's meaning is checked later
(vidsvc.graph.timeline). The HTTP layer reuses these schemas for the OpenAPI document.

A leaf module: imports only vidsvc.spec, vidsvc.config and vidsvc.errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import Any, ClassVar

from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.config import X264_PRESETS
from vidsvc.errors import ValidationError

FONT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")
#: Named colours accepted besides hex (a fixed table: nothing user-typed reaches FFmpeg).
NAMED_COLORS = {
    "white": "FFFFFF",
    "black": "000000",
    "red": "FF0000",
    "green": "00FF00",
    "blue": "0000FF",
    "yellow": "FFFF00",
    "cyan": "00FFFF",
    "magenta": "FF00FF",
    "gray": "808080",
    "grey": "808080",
    "orange": "FFA500",
    "purple": "800080",
    "pink": "FFC0CB",
}
MAX_SECONDS = 86400.0


def _seconds(**kw: Any) -> fields.Float:
    return fields.Float(allow_nan=False, validate=validate.Range(0, MAX_SECONDS), **kw)


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value * 1000)


class ColorField(fields.Field[str]):
    """`#RRGGBB`, `#RRGGBBAA` or a name from NAMED_COLORS, normalized to `0xRRGGBBAA`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        if isinstance(value, str):
            named = NAMED_COLORS.get(value.strip().lower())
            if named:
                return f"0x{named}FF"
            match = HEX_COLOR.match(value)
            if match:
                return f"0x{match.group(1).upper()}{(match.group(2) or 'FF').upper()}"
        raise MarshmallowError("Not a colour: use #RRGGBB, #RRGGBBAA or a colour name.")


class PositionField(fields.Field[str | int]):
    """A named anchor (`center`, `left`…) or non-negative pixels."""

    def __init__(self, names: tuple[str, ...], **kw: Any) -> None:
        super().__init__(**kw)
        self.names = names

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str | int:
        if isinstance(value, str) and value in self.names:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 8192:
            return value
        raise MarshmallowError(f"Must be one of {', '.join(self.names)} or pixels 0-8192.")


class ClipSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(1, 4096))
    start_time = _seconds()
    end_time = _seconds()
    trim_start = _seconds()
    trim_end = _seconds()
    transition_in = fields.String(validate=validate.OneOf(spec.TRANSITIONS))
    transition_duration = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    color_preset = fields.String(validate=validate.OneOf(spec.COLOR_PRESETS))
    duration = fields.Float(
        allow_nan=False, validate=validate.Range(0, MAX_SECONDS, min_inclusive=False)
    )
    fit = fields.String(validate=validate.OneOf(spec.FITS))
    motion = fields.String(validate=validate.OneOf(spec.MOTIONS))
    motion_amount = fields.Float(allow_nan=False, validate=validate.Range(0, 0.5))

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Clip:
        transition = d.get("transition_in", "cut")
        default_ms = 0 if transition == "cut" else spec.DEFAULT_TRANSITION_MS
        duration = d.get("transition_duration")
        return spec.Clip(
            url=d["url"],
            start_ms=_ms(d.get("start_time")),
            end_ms=_ms(d.get("end_time")),
            trim_start_ms=_ms(d.get("trim_start")),
            trim_end_ms=_ms(d.get("trim_end")),
            transition=transition,
            transition_ms=default_ms if duration is None else round(duration * 1000),
            volume=d.get("volume", 1.0),
            color_preset=d.get("color_preset"),
            duration_ms=_ms(d.get("duration")),
            fit=d.get("fit"),
            motion=d.get("motion", "none"),
            motion_amount=d.get("motion_amount", 0.1),
        )


class PositionSchema(Schema):
    x = PositionField(spec.X_POSITIONS)
    y = PositionField(spec.Y_POSITIONS)


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
    fade_in = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    fade_out = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
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
        fades = {f"{k}_ms": round(d.pop(k) * 1000) for k in ("fade_in", "fade_out") if k in d}
        return spec.TextStyle(**d, **fades)


class OverlaySchema(Schema):
    type = fields.String(load_default="text", validate=validate.OneOf(["text"]))
    content = fields.String(required=True)
    position = fields.Nested(PositionSchema)
    start_time = _seconds()
    duration = fields.Float(allow_nan=False, validate=validate.Range(0, MAX_SECONDS))
    style = fields.Nested(TextStyleSchema)
    animation = fields.String(
        validate=validate.OneOf(spec.ANIMATIONS),
        metadata={"description": "How the text enters", "example": "pop"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.TextOverlay:
        position = d.get("position", {})
        return spec.TextOverlay(
            text=d["content"],
            x=position.get("x", "center"),
            y=position.get("y", "center"),
            start_ms=_ms(d.get("start_time")) or 0,
            duration_ms=_ms(d.get("duration")),
            style=d.get("style", spec.TextStyle()),
            animation=d.get("animation", "none"),
        )


class DuckingSchema(Schema):
    amount_db = fields.Float(
        allow_nan=False,
        validate=validate.Range(1, 30),
        metadata={"description": "how far the music goes down under the voiceover (10)"},
    )
    attack = fields.Float(
        allow_nan=False,
        validate=validate.Range(0.001, 2),
        metadata={"description": "seconds to go down once the voice starts (0.02)"},
    )
    release = fields.Float(
        allow_nan=False,
        validate=validate.Range(0.01, 5),
        metadata={"description": "seconds to come back after the voice stops (0.4)"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Ducking:
        timed = {f"{k}_ms": round(d.pop(k) * 1000) for k in ("attack", "release") if k in d}
        return spec.Ducking(**d, **timed)


class BeatSyncSchema(Schema):
    every = fields.Integer(
        strict=True,
        validate=validate.Range(1, 16),
        metadata={"description": "snap to every Nth beat (1; 2 if the tracker reads double)"},
    )
    max_shift = fields.Float(
        allow_nan=False,
        validate=validate.Range(0, 10),
        metadata={"description": "seconds a cut may move (default: half a beat)"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.BeatSync:
        shift = d.pop("max_shift", None)
        return spec.BeatSync(**d, max_shift_ms=_ms(shift))


def _inline(nested: type[Schema]) -> dict[str, Any]:
    """An OpenAPI object for a schema of numbers (the options of SwitchOrNested)."""
    properties: dict[str, Any] = {}
    for name, field in nested().fields.items():
        prop: dict[str, Any] = {
            "type": "integer" if isinstance(field, fields.Integer) else "number"
        }
        for rule in field.validators:
            if isinstance(rule, validate.Range):
                prop |= {"minimum": rule.min, "maximum": rule.max}
        if field.metadata.get("description"):
            prop["description"] = field.metadata["description"]
        properties[name] = prop
    return {"type": "object", "properties": properties, "additionalProperties": False}


class SwitchOrNested(fields.Field[Any]):
    """`true` (the defaults), `false`/null (off) or an object of options (a nested schema)."""

    def __init__(self, nested: type[Schema], default: Any, **kw: Any) -> None:
        one_of = [{"type": "boolean"}, _inline(nested)]
        super().__init__(allow_none=True, metadata={"oneOf": one_of}, **kw)
        self.nested, self.default = nested, default

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if value is True:
            return self.default
        if value is False:
            return None
        if isinstance(value, Mapping):
            return self.nested().load(value)
        raise MarshmallowError("Must be true, false or an object of options.")


class AudioSchema(Schema):
    music_url = fields.String(allow_none=True, validate=validate.Length(1, 4096))
    voiceover_url = fields.String(allow_none=True, validate=validate.Length(1, 4096))
    music_volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    voiceover_volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    music_loop = fields.Boolean()
    music_start = _seconds()
    music_fade_in = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    music_fade_out = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    voiceover_delay = _seconds()
    voiceover_fade_in = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    voiceover_fade_out = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    ducking = SwitchOrNested(DuckingSchema, spec.Ducking())
    loudness_lufs = fields.Float(
        allow_nan=False, allow_none=True, validate=validate.Range(-30, -5)
    )
    beat_sync = SwitchOrNested(BeatSyncSchema, spec.BeatSync())

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Audio:
        timed: tuple[str, ...] = ("music_start", "music_fade_in", "music_fade_out")
        timed += ("voiceover_delay", "voiceover_fade_in", "voiceover_fade_out")
        ms = {f"{k}_ms": round(d.pop(k) * 1000) for k in timed if k in d}
        return spec.Audio(**d, **ms)


def _even(value: int) -> None:
    if value % 2:
        raise MarshmallowError("must be an even number of pixels")


# --- image and video overlays (`type` discriminates; text stays OverlaySchema) ---


class ImageOverlaySchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["image"]))
    url = fields.String(required=True, validate=validate.Length(1, 4096))
    position = fields.Nested(PositionSchema)
    width = fields.Integer(strict=True, validate=validate.Range(2, 7680))
    height = fields.Integer(strict=True, validate=validate.Range(2, 7680))
    opacity = fields.Float(allow_nan=False, validate=validate.Range(0, 1))
    start_time = _seconds()
    duration = fields.Float(
        allow_nan=False, validate=validate.Range(0, MAX_SECONDS, min_inclusive=False)
    )
    fade_in = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    fade_out = fields.Float(allow_nan=False, validate=validate.Range(0, 60))

    @validates_schema
    def _one_size(self, d: dict[str, Any], **_: Any) -> None:
        if "width" in d and "height" in d:
            raise MarshmallowError({"height": ["give width or height, not both (aspect is kept)"]})

    def fields_of(self, d: dict[str, Any]) -> dict[str, Any]:
        position = d.get("position", {})
        return {
            "index": -1,
            "url": d["url"],
            "x": position.get("x", "right"),
            "y": position.get("y", "top"),
            "width": d.get("width"),
            "height": d.get("height"),
            "opacity": d.get("opacity", 1.0),
            "start_ms": _ms(d.get("start_time")) or 0,
            "duration_ms": _ms(d.get("duration")),
            "fade_in_ms": _ms(d.get("fade_in")) or 0,
            "fade_out_ms": _ms(d.get("fade_out")) or 0,
        }

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.ImageOverlay:
        return spec.ImageOverlay(**self.fields_of(d))


class VideoOverlaySchema(ImageOverlaySchema):
    type = fields.String(required=True, validate=validate.OneOf(["video"]))
    trim_start = _seconds()
    trim_end = _seconds()
    volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.VideoOverlay:
        return spec.VideoOverlay(
            **self.fields_of(d),
            trim_start_ms=_ms(d.get("trim_start")) or 0,
            trim_end_ms=_ms(d.get("trim_end")),
            volume=d.get("volume", 0.0),
        )


class AnyOverlaySchema(Schema):
    """The OpenAPI picture of one `overlays` entry: the union of the three kinds' fields.
    Loading goes through the kind's own schema (OverlayField), which refuses the others'."""

    type = fields.String(
        validate=validate.OneOf(["text", "image", "video"]),
        metadata={"description": "text (default): content, style; image/video: url, ..."},
    )
    content = fields.String(metadata={"description": "text only"})
    style = fields.Nested(TextStyleSchema, metadata={"description": "text only"})
    animation = fields.String(
        validate=validate.OneOf(spec.ANIMATIONS),
        metadata={"description": "text only: how the text enters", "example": "pop"},
    )
    url = fields.String(metadata={"description": "image and video: the file, as clips[].url"})
    position = fields.Nested(PositionSchema)
    start_time = _seconds()
    duration = fields.Float(metadata={"description": "default: to the end of the timeline"})
    width = fields.Integer(metadata={"description": "image/video: pixels, aspect kept"})
    height = fields.Integer(metadata={"description": "image/video: instead of width"})
    opacity = fields.Float(metadata={"description": "image/video: 0-1 (1)"})
    fade_in = fields.Float(metadata={"description": "image/video: seconds"})
    fade_out = fields.Float(metadata={"description": "image/video: seconds"})
    trim_start = _seconds(metadata={"description": "video: the source range"})
    trim_end = _seconds(metadata={"description": "video: the source range"})
    volume = fields.Float(metadata={"description": "video: 0 (default) is silent"})


class OverlayField(fields.Nested):
    """One entry of `overlays`: `type` picks text (the default), image or video. Documented as
    AnyOverlaySchema (a Nested field, so the OpenAPI document lists the fields)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(AnyOverlaySchema, **kw)

    SCHEMAS: ClassVar[dict[str, type[Schema]]] = {
        "text": OverlaySchema,
        "image": ImageOverlaySchema,
        "video": VideoOverlaySchema,
    }

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None,
        **kw: Any,
    ) -> Any:
        kind = value.get("type", "text") if isinstance(value, Mapping) else "text"
        schema = self.SCHEMAS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            raise MarshmallowError({"type": [f"Must be one of: {', '.join(self.SCHEMAS)}."]})
        return schema().load(value)


def _indexed(every: Any) -> list[spec.ImageOverlay | spec.VideoOverlay]:
    """The image/video overlays, each told its place in `overlays` (for error messages)."""
    return [replace(o, index=i) for i, o in enumerate(every) if isinstance(o, spec.ImageOverlay)]


class OutputSchema(Schema):
    resolution = fields.String(validate=validate.OneOf(list(spec.RESOLUTIONS)))
    fps = fields.Integer(strict=True, validate=validate.Range(1, 60))
    crf = fields.Integer(strict=True, validate=validate.Range(0, 51))
    preset = fields.String(validate=validate.OneOf(X264_PRESETS))
    format = fields.String(validate=validate.OneOf(["mp4"]))
    thumbnail_time = _seconds()
    aspect_ratio = fields.String(validate=validate.OneOf(list(spec.ASPECT_RATIOS)))
    width = fields.Integer(strict=True, validate=[validate.Range(16, 7680), _even])
    height = fields.Integer(strict=True, validate=[validate.Range(16, 7680), _even])
    fit = fields.String(validate=validate.OneOf(spec.FITS))

    @validates_schema
    def _size_pair(self, d: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("width", "height") if k in d]
        if len(given) == 1:
            other = "height" if given[0] == "width" else "width"
            raise MarshmallowError({other: ["width and height go together"]})

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Output:
        thumb = d.pop("thumbnail_time", None)
        return spec.Output(**d, thumbnail_ms=_ms(thumb))


#: Inline cues or words per composition (a file at captions.url has the same cap).
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
    offset = fields.Float(
        allow_nan=False,
        validate=validate.Range(-MAX_SECONDS, MAX_SECONDS),
        metadata={"description": "Seconds added to every caption time", "example": 0.0},
    )
    style = fields.Nested(CaptionStyleSchema)

    @validates_schema
    def one_source(self, d: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("url", "cues", "words") if k in d]
        if len(given) != 1:
            raise MarshmallowError("give exactly one of url, cues or words", field_name="url")

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Captions:
        return spec.Captions(
            url=d.get("url"),
            cues=tuple(d.get("cues", ())),
            words=tuple(d.get("words", ())),
            mode=d.get("mode", "lines"),
            position=d.get("position", "bottom"),
            offset_ms=round(d.get("offset", 0.0) * 1000),
            style=d.get("style", spec.TextStyle()),
        )


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
    fonts = fields.List(fields.Nested(FontSourceSchema), validate=validate.Length(0, MAX_FONTS))

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Composition:
        every = d.get("overlays", ())
        return spec.Composition(
            clips=tuple(d["clips"]),
            overlays=tuple(o for o in every if isinstance(o, spec.TextOverlay)),
            layers=tuple(_indexed(every)),
            audio=d.get("audio", spec.Audio()),
            output=d.get("output", spec.Output()),
            color_preset=d.get("color_preset", "none"),
            user_id=d.get("user_id"),
            cache=d.get("cache", True),
            captions=d.get("captions"),
            fonts=tuple(d.get("fonts", ())),
        )


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """{'clips': {0: {'trim_start': ['Not a valid number.']}}} → {'clips[0].trim_start': '…'}."""
    if isinstance(messages, Mapping):
        out: dict[str, str] = {}
        for key, value in messages.items():
            name = (
                f"{prefix}[{key}]"
                if isinstance(key, int)
                else (f"{prefix}.{key}" if prefix else str(key))
            )
            out.update(_flatten(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": " ".join(messages)}
    return {prefix or "body": str(messages)}


def _load(schema: Schema, document: Any) -> Any:
    """schema.load(document), or ValidationError naming the first bad field and listing all."""
    if not isinstance(document, Mapping):
        raise ValidationError("body: must be a JSON object", details={"field": "body"})
    try:
        return schema.load(document)
    except MarshmallowError as exc:
        problems = _flatten(exc.messages)
        first_field, first_message = next(iter(problems.items()))
        raise ValidationError(
            f"{first_field}: {first_message}",
            details={"field": first_field, "fields": problems},
        ) from None


def parse_composition(document: Any) -> spec.Composition:
    """Build a Composition from decoded JSON, or raise ValidationError naming every bad field."""
    result: spec.Composition = _load(CompositionSchema(), document)
    return result


class ClipOptionsSchema(Schema):
    color_preset = fields.String(validate=validate.OneOf(spec.CLIP_COLOR_PRESETS))
    contact_sheet = fields.Boolean()
    thumbnail_time = _seconds()


def _no_duplicates(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise MarshmallowError("must not repeat an operation")


class ClipTaskSchema(Schema):
    processing_id = fields.String(
        required=True, validate=validate.Regexp(spec.PROCESSING_ID_PATTERN)
    )
    clips = fields.List(
        fields.String(validate=validate.Length(1, 4096)),
        required=True,
        validate=validate.Length(1, 20),
    )
    operations = fields.List(
        fields.String(validate=validate.OneOf(spec.CLIP_OPERATIONS)),
        required=True,
        validate=[validate.Length(min=1), _no_duplicates],
    )
    callback_url = fields.String(allow_none=True, validate=validate.Length(1, 2048))
    options = fields.Nested(ClipOptionsSchema)
    user_id = fields.String(allow_none=True, validate=validate.Length(1, 128))

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.ClipTask:
        options = d.get("options", {})
        return spec.ClipTask(
            processing_id=d["processing_id"],
            clips=tuple(d["clips"]),
            operations=tuple(d["operations"]),
            callback_url=d.get("callback_url"),
            color_preset=options.get("color_preset", "auto"),
            contact_sheet=options.get("contact_sheet", False),
            thumbnail_ms=_ms(options.get("thumbnail_time")),
            user_id=d.get("user_id"),
        )


def parse_clip_task(document: Any) -> spec.ClipTask:
    """Build a ClipTask from decoded JSON, or raise ValidationError naming every bad field."""
    result: spec.ClipTask = _load(ClipTaskSchema(), document)
    return result


class BeatRequestSchema(Schema):
    """POST /internal/v1/beat-detection (ENABLE_BEAT_DETECTION): one input, by URL."""

    url = fields.String(
        required=True,
        validate=validate.Length(1, 4096),
        metadata={"description": "an audio or video input, under the input URL rules"},
    )


def parse_beat_request(document: Any) -> str:
    """The URL of a beat-detection request, or ValidationError naming the field."""
    loaded: dict[str, str] = _load(BeatRequestSchema(), document)
    return loaded["url"]
