"""A composition's `output` on the wire: its shape and size, format, previews (range, draft)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.config import X264_PRESETS
from vidsvc.schema.wire import Millis, even


class RangeSchema(Schema):
    start_ms = Millis(
        data_key="start", required=True, metadata={"description": "seconds into the timeline"}
    )
    duration_ms = Millis(data_key="duration", required=True, above_least=True, most=3600)

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Range:
        return spec.Range(**d)


class RenditionSchema(Schema):
    aspect_ratio = fields.String(required=True, validate=validate.OneOf(list(spec.ASPECT_RATIOS)))
    resolution = fields.String(
        validate=validate.OneOf(list(spec.RESOLUTIONS)),
        metadata={"description": "the short side; default: output.resolution"},
    )
    fit = fields.String(
        validate=validate.OneOf(spec.FITS),
        metadata={"description": "the clips' default fit in this shape; default: output.fit"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Rendition:
        return spec.Rendition(**d)


class OutputSchema(Schema):
    resolution = fields.String(validate=validate.OneOf(list(spec.RESOLUTIONS)))
    fps = fields.Integer(strict=True, validate=validate.Range(1, 60))
    crf = fields.Integer(strict=True, validate=validate.Range(0, 51))
    preset = fields.String(validate=validate.OneOf(X264_PRESETS))
    format = fields.String(
        validate=validate.OneOf(spec.OUTPUT_FORMATS),
        metadata={
            "description": "mp4 (H.264 + AAC, default), webm (VP9 + Opus), gif or webp "
            "(animated, no sound; fps default 12, width default 480)"
        },
    )
    loop = fields.Integer(
        strict=True,
        validate=validate.Range(0, 65535),
        metadata={"description": "gif/webp: how many times it repeats; 0 (default): forever"},
    )
    renditions = fields.List(
        fields.Nested(RenditionSchema),
        validate=validate.Length(1, spec.MAX_RENDITIONS),
        metadata={
            "description": "every shape from one decode of the inputs (1-4); each lays out its "
            "own text and captions. Default: this output's own shape alone"
        },
    )
    thumbnail_ms = Millis(data_key="thumbnail_time")
    aspect_ratio = fields.String(validate=validate.OneOf(list(spec.ASPECT_RATIOS)))
    width = fields.Integer(strict=True, validate=[validate.Range(16, 7680), even])
    height = fields.Integer(strict=True, validate=[validate.Range(16, 7680), even])
    fit = fields.String(validate=validate.OneOf(spec.FITS))
    smart_render = fields.Boolean(
        metadata={
            "description": "true (default): where render-ready clips (normalize's output) play "
            "untouched, their frames are copied instead of encoded again, when enough can be "
            "(README 'Smart rendering'); false: always one FFmpeg pass"
        }
    )

    range = fields.Nested(
        RangeSchema,
        metadata={"description": "render only this part of the timeline (a preview)"},
    )
    draft = fields.Boolean(
        metadata={
            "description": "a fast preview: short side 360, 15 fps, x264 ultrafast; never "
            "shares a cache entry with a full render"
        }
    )

    @validates_schema
    def _format_options(self, d: dict[str, Any], **_: Any) -> None:
        """What a format has no use for is refused, not ignored."""
        fmt = d.get("format", "mp4")
        if "loop" in d and fmt not in spec.ANIMATED_FORMATS:
            raise MarshmallowError({"loop": ["an animated image's (gif, webp), not " + fmt]})
        if "preset" in d and fmt != "mp4":
            raise MarshmallowError({"preset": [f"x264's, for mp4; {fmt} has its own settings"]})
        if "crf" in d and fmt in spec.ANIMATED_FORMATS:
            raise MarshmallowError({"crf": [f"a {fmt} has fixed quality settings"]})

    @validates_schema
    def _size_pair(self, d: dict[str, Any], **_: Any) -> None:
        given = [k for k in ("width", "height") if k in d]
        if given == ["width"] and d.get("format") in spec.ANIMATED_FORMATS:
            return  # an animated image's height follows its aspect ratio
        if given and d.get("renditions"):
            raise MarshmallowError(
                {given[0]: ["renditions give the sizes: use their aspect_ratio and resolution"]}
            )
        if len(given) == 1:
            other = "height" if given[0] == "width" else "width"
            raise MarshmallowError({other: ["width and height go together"]})

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Output:
        if d.get("format") in spec.ANIMATED_FORMATS:
            d.setdefault("fps", spec.ANIMATED_FPS)
        if d.get("draft"):  # what a draft is, decided once: the size follows in spec.Output
            d |= {"fps": min(d.get("fps", spec.DRAFT_FPS), spec.DRAFT_FPS)}
            d |= {"preset": spec.DRAFT_PRESET, "smart_render": False}
        if "renditions" in d:
            d["renditions"] = tuple(d["renditions"])
        return spec.Output(**d)
