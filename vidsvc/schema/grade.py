"""A colour grade on the wire (`grade`, `clips[].grade`): a `.cube` LUT and adjustments."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from vidsvc import spec


def _number(bounds: tuple[float, float], description: str) -> fields.Float:
    return fields.Float(
        allow_nan=False, validate=validate.Range(*bounds), metadata={"description": description}
    )


class GradeSchema(Schema):
    lut_url = fields.String(
        validate=validate.Length(1, 4096),
        metadata={
            "description": f"a `.cube` 3D LUT (LUT_3D_SIZE at most {spec.MAX_LUT_SIZE}) under "
            "the input URL rules; any other file is INVALID_CLIP_FORMAT"
        },
    )
    lut_intensity = _number(
        (0.0, 1.0), "how much of the LUT's picture, mixed with the ungraded one (1)"
    )
    brightness = _number(spec.BRIGHTNESS_RANGE, "added to the luma after the LUT (0)")
    contrast = _number(spec.CONTRAST_RANGE, "after the LUT (1)")
    saturation = _number(spec.SATURATION_RANGE, "after the LUT; 0 is grey (1)")
    temperature = _number(
        spec.TEMPERATURE_RANGE,
        "the light's colour temperature in kelvin, last: lower is warmer, higher is cooler "
        "(none: unchanged)",
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Grade:
        return spec.Grade(**d)


def grade_field(description: str) -> fields.Nested:
    """A `grade` object; `null` allowed (see the callers for what it means there)."""
    return fields.Nested(GradeSchema, allow_none=True, metadata={"description": description})
