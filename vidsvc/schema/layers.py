"""Image and video overlays on the wire (`type` discriminates; text stays text.OverlaySchema)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import Any, ClassVar

from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.schema.text import OverlaySchema, TextStyleSchema
from vidsvc.schema.wire import MAX_SECONDS, PositionSchema, seconds, to_ms


class ImageOverlaySchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["image"]))
    url = fields.String(required=True, validate=validate.Length(1, 4096))
    position = fields.Nested(PositionSchema)
    width = fields.Integer(strict=True, validate=validate.Range(2, 7680))
    height = fields.Integer(strict=True, validate=validate.Range(2, 7680))
    opacity = fields.Float(allow_nan=False, validate=validate.Range(0, 1))
    start_time = seconds()
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
            "start_ms": to_ms(d.get("start_time")) or 0,
            "duration_ms": to_ms(d.get("duration")),
            "fade_in_ms": to_ms(d.get("fade_in")) or 0,
            "fade_out_ms": to_ms(d.get("fade_out")) or 0,
        }

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.ImageOverlay:
        return spec.ImageOverlay(**self.fields_of(d))


class VideoOverlaySchema(ImageOverlaySchema):
    type = fields.String(required=True, validate=validate.OneOf(["video"]))
    trim_start = seconds()
    trim_end = seconds()
    volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.VideoOverlay:
        return spec.VideoOverlay(
            **self.fields_of(d),
            trim_start_ms=to_ms(d.get("trim_start")) or 0,
            trim_end_ms=to_ms(d.get("trim_end")),
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
    start_time = seconds()
    duration = fields.Float(metadata={"description": "default: to the end of the timeline"})
    width = fields.Integer(metadata={"description": "image/video: pixels, aspect kept"})
    height = fields.Integer(metadata={"description": "image/video: instead of width"})
    opacity = fields.Float(metadata={"description": "image/video: 0-1 (1)"})
    fade_in = fields.Float(metadata={"description": "image/video: seconds"})
    fade_out = fields.Float(metadata={"description": "image/video: seconds"})
    trim_start = seconds(metadata={"description": "video: the source range"})
    trim_end = seconds(metadata={"description": "video: the source range"})
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


def indexed(every: Any) -> list[spec.ImageOverlay | spec.VideoOverlay]:
    """The image/video overlays, each told its place in `overlays` (for error messages)."""
    return [replace(o, index=i) for i, o in enumerate(every) if isinstance(o, spec.ImageOverlay)]
