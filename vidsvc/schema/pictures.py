"""Image and video overlays on the wire (`type` discriminates; text stays text.OverlaySchema)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar

from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.schema.text import OverlaySchema, TextStyleSchema
from vidsvc.schema.wire import FADE_S, Millis, PositionSchema


class ImageOverlaySchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["image"]))
    url = fields.String(required=True, validate=validate.Length(1, 4096))
    position = fields.Nested(PositionSchema)
    width = fields.Integer(strict=True, validate=validate.Range(2, 7680))
    height = fields.Integer(strict=True, validate=validate.Range(2, 7680))
    opacity = fields.Float(allow_nan=False, validate=validate.Range(0, 1))
    start_ms = Millis(data_key="start_time")
    duration_ms = Millis(data_key="duration", above_least=True)
    fade_in_ms = Millis(data_key="fade_in", most=FADE_S)
    fade_out_ms = Millis(data_key="fade_out", most=FADE_S)

    @validates_schema
    def _one_size(self, d: dict[str, Any], **_: Any) -> None:
        if "width" in d and "height" in d:
            raise MarshmallowError({"height": ["give width or height, not both (aspect is kept)"]})

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.ImageOverlay:
        d.pop("type")
        return spec.ImageOverlay(**d.pop("position", {}), **d)


class VideoOverlaySchema(ImageOverlaySchema):
    type = fields.String(required=True, validate=validate.OneOf(["video"]))
    trim_start_ms = Millis(data_key="trim_start")
    trim_end_ms = Millis(data_key="trim_end")
    volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.VideoOverlay:
        d.pop("type")
        return spec.VideoOverlay(**d.pop("position", {}), **d)


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
    start_time = Millis()
    duration = fields.Float(metadata={"description": "default: to the end of the timeline"})
    width = fields.Integer(metadata={"description": "image/video: pixels, aspect kept"})
    height = fields.Integer(metadata={"description": "image/video: instead of width"})
    opacity = fields.Float(metadata={"description": "image/video: 0-1 (1)"})
    fade_in = fields.Float(metadata={"description": "image/video: seconds"})
    fade_out = fields.Float(metadata={"description": "image/video: seconds"})
    trim_start = Millis(metadata={"description": "video: the source range"})
    trim_end = Millis(metadata={"description": "video: the source range"})
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
