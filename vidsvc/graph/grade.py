"""A clip's grade drawn (docs/composition.md#grade): the 3D LUT, then eq's brightness, contrast
and saturation, then a colour temperature, each only where it changes something.

The LUT is not read here: the work layer (work/compositions/luts.py) fetches and checks the
`.cube` file and writes a copy with `lut_intensity` already blended in, under the name
`lut_file` gives, so the graph and the workspace agree on it without a parameter passed
through the build. Before staging, the work layer replaces `lut_url` by the digest of the
file's bytes (`sha256:<hex>`), so the name, and with it the command the render cache keys on,
follows the LUT's contents and not where it was fetched from.

Pure: imports vidsvc.spec only (hashlib is a computation, not I/O).
"""

from __future__ import annotations

import hashlib

from vidsvc import spec

#: The workspace folder of the blended LUT copies FFmpeg reads (relative, as FFmpeg runs in
#: the workspace).
LUT_DIR = "luts"
#: Tetrahedral interpolation is what grading tools use (and FFmpeg's default): smoother across
#: the cube's diagonals than trilinear, for the same cost here.
LUT_INTERP = "tetrahedral"

Step = tuple[str, dict[str, str | int | float]]


def lut_file(url: str, intensity: float) -> str:
    """The workspace-relative name of the LUT at `url` blended at `intensity`: one file per
    (LUT, intensity), however many clips use it."""
    key = f"{url}\n{intensity:.6f}".encode()
    return f"{LUT_DIR}/{hashlib.sha256(key).hexdigest()[:24]}.cube"


def steps(grade: spec.Grade | None) -> tuple[Step, ...]:
    """The filters that draw `grade`, in order; none for no grade or a neutral one."""
    if grade is None:
        return ()
    found: list[Step] = []
    if grade.lut_url is not None and grade.lut_intensity > 0:  # at 0 the LUT draws nothing
        path = lut_file(grade.lut_url, grade.lut_intensity)
        # the path is escaped with every other argument (graph/escape.py, at compile)
        found.append(("lut3d", {"file": path, "interp": LUT_INTERP}))
    eq: dict[str, str | int | float] = {
        name: value
        for name, value, neutral in (
            ("brightness", grade.brightness, 0.0),
            ("contrast", grade.contrast, 1.0),
            ("saturation", grade.saturation, 1.0),
        )
        if value != neutral
    }
    if eq:
        found.append(("eq", eq))
    if grade.temperature is not None:
        found.append(("colortemperature", {"temperature": grade.temperature}))
    return tuple(found)


def changes_pixels(grade: spec.Grade | None) -> bool:
    """False for no grade and for one whose every field is neutral: what smart rendering may
    still copy (graph/look.py)."""
    return bool(steps(grade))
