"""A colour grade (docs/composition.md#grade): a 3D LUT and simple adjustments, for a whole
composition (the default) or one clip. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

#: The largest `.cube` 3D LUT accepted (LUT_3D_SIZE): 65 is the largest size grading tools
#: export, and FFmpeg 5.1's lut3d reads up to 256.
MAX_LUT_SIZE = 65
BRIGHTNESS_RANGE = (-1.0, 1.0)
CONTRAST_RANGE = (0.0, 3.0)
SATURATION_RANGE = (0.0, 3.0)
TEMPERATURE_RANGE = (1000.0, 40000.0)  #: kelvin, as FFmpeg's colortemperature takes them


@dataclass(frozen=True, slots=True, kw_only=True)
class Grade:
    """Every field at its default changes nothing: `Grade()` is an ungraded clip."""

    lut_url: str | None = None  #: a `.cube` 3D LUT under the input URL rules
    lut_intensity: float = 1.0  #: 0-1: the LUT's picture mixed with the ungraded one
    brightness: float = 0.0  #: -1-1, added to luma (FFmpeg eq)
    contrast: float = 1.0  #: 0-3
    saturation: float = 1.0  #: 0-3
    temperature: float | None = None  #: 1000-40000 K; None: no white balance change
