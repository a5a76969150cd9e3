"""A `.cube` 3D LUT (Adobe/IRIDAS, as grading tools export it) read and checked, and the copy
FFmpeg reads written with `lut_intensity` blended in. Pure: bytes in, text out, no I/O.

Read: an optional TITLE, comments (`#`, anywhere), `LUT_3D_SIZE` 2-65, DOMAIN_MIN/DOMAIN_MAX
(or Resolve's LUT_3D_INPUT_RANGE) only as 0..1, then exactly size³ rows of three finite
numbers, red changing fastest. Refused, each with its reason, as INVALID_CLIP_FORMAT naming the
field: a binary or non-UTF-8 file, a 1D LUT or a 1D shaper before the cube (lut3d would ignore
the shaper and draw other colours), another domain (a LUT for log or HDR input: lut3d only
scales the domain's width, so it would draw wrong colours), a missing, bad or over-large size,
a short or long table, a row that is not three numbers, NaN or infinity, an unknown keyword.
Our copy is written as FFmpeg's parser reads it best: the size and the rows, nothing else.

Imports vidsvc.errors only.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

from vidsvc.errors import InvalidClipFormat

MAX_LUT_BYTES = 16 * 1024 * 1024  #: a 65³ table as tools write it is 7-9 MB
MIN_SIZE, MAX_SIZE = 2, 65
#: Keywords that describe the file without changing the colours.
_IGNORED = ("TITLE", "LUT_IN_VIDEO_RANGE", "LUT_OUT_VIDEO_RANGE")
_DOMAINS = {"DOMAIN_MIN": (0.0,) * 3, "DOMAIN_MAX": (1.0,) * 3, "LUT_3D_INPUT_RANGE": (0.0, 1.0)}


@dataclass(frozen=True, slots=True)
class Cube:
    size: int
    #: size³ rows of R G B, flat, in the file's order (red fastest, then green, then blue)
    table: array[float]


def parse(data: bytes, field: str) -> Cube:
    """The 3D LUT in `data`, or INVALID_CLIP_FORMAT naming `field` with the reason."""
    lines = _text(data, field).splitlines()
    size, start = _header(lines, field)
    return Cube(size=size, table=_rows(lines, start, size, field))


def blend(cube: Cube, intensity: float) -> str:
    """The `.cube` text of `identity * (1 - intensity) + lut * intensity`.

    Why in the table and not per frame: lut3d's interpolation (tetrahedral or trilinear) is a
    weighted sum of table entries whose weights depend only on the input colour, and it gives
    the identity table's input colour back exactly; so interpolating the blended table equals
    blending the graded and the ungraded pictures, at no cost per frame (no split, no blend
    filter, no second copy of every frame)."""
    n, table = cube.size, cube.table
    keep, step = 1.0 - intensity, 1.0 / (n - 1)
    rows = [f"LUT_3D_SIZE {n}"]
    for b in range(n):
        for g in range(n):
            at = (b * n + g) * n * 3
            for r in range(n):
                i = at + r * 3
                rows.append(
                    f"{keep * r * step + intensity * table[i]:.6f} "
                    f"{keep * g * step + intensity * table[i + 1]:.6f} "
                    f"{keep * b * step + intensity * table[i + 2]:.6f}"
                )
    return "\n".join(rows) + "\n"


def _text(data: bytes, field: str) -> str:
    if len(data) > MAX_LUT_BYTES:
        raise InvalidClipFormat.at(field, f"over the cap of {MAX_LUT_BYTES} bytes for a LUT")
    if b"\0" in data:
        raise InvalidClipFormat.at(field, "a binary file, not a .cube LUT (text)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        why = f"not UTF-8 text (byte {exc.start}): not a .cube LUT"
        raise InvalidClipFormat.at(field, why) from None


def _header(lines: list[str], field: str) -> tuple[int, int]:
    """The LUT's size and the index of its first table row."""
    size: int | None = None
    for index, line in enumerate(lines):
        words = line.split("#", 1)[0].split() if not line.lstrip().startswith("TITLE") else []
        if not words or words[0] in _IGNORED:
            continue
        key = words[0]
        if key == "LUT_3D_SIZE":
            size = _size(words, index, field)
        elif key in ("LUT_1D_SIZE", "LUT_1D_INPUT_RANGE"):
            raise InvalidClipFormat.at(
                field, f"line {index + 1}: a 1D LUT (or a 1D shaper); give a 3D .cube LUT"
            )
        elif key in _DOMAINS:
            _domain(words, index, field)
        elif _is_number(key):
            if size is None:
                raise InvalidClipFormat.at(field, "no LUT_3D_SIZE before the table")
            return size, index
        else:
            raise InvalidClipFormat.at(field, f"line {index + 1}: unknown keyword {key[:40]!r}")
    raise InvalidClipFormat.at(field, "no table: not a 3D .cube LUT")


def _size(words: list[str], index: int, field: str) -> int:
    where = f"line {index + 1}: LUT_3D_SIZE"
    if len(words) != 2 or not words[1].isdigit():
        raise InvalidClipFormat.at(field, f"{where} needs one whole number")
    size = int(words[1])
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InvalidClipFormat.at(field, f"{where} {size} is not {MIN_SIZE} to {MAX_SIZE}")
    return size


def _domain(words: list[str], index: int, field: str) -> None:
    key, wanted = words[0], _DOMAINS[words[0]]
    values = tuple(_number(w, index, field) for w in words[1:])
    if values != wanted:
        why = (
            f"line {index + 1}: {key} {' '.join(words[1:])[:60]}: only a 0 to 1 domain is "
            "supported (a LUT for log or HDR input would draw wrong colours)"
        )
        raise InvalidClipFormat.at(field, why)


def _rows(lines: list[str], start: int, size: int, field: str) -> array[float]:
    """The table: exactly size³ rows of three finite numbers, comments and blanks between."""
    table: array[float] = array("d")
    wanted = size**3
    for index in range(start, len(lines)):
        words = lines[index].split("#", 1)[0].split()
        if not words:
            continue
        if words[0][:1].isalpha() and not _is_number(words[0]):
            why = f"line {index + 1}: {words[0][:40]!r} after the table began (keywords first)"
            raise InvalidClipFormat.at(field, why)
        if len(words) != 3:
            why = f"line {index + 1}: a table row needs 3 numbers, not {len(words)}"
            raise InvalidClipFormat.at(field, why)
        table.extend(_number(w, index, field) for w in words)
    rows = len(table) // 3
    if rows != wanted:
        why = f"{rows} table rows where LUT_3D_SIZE {size} needs {size}³ = {wanted}"
        raise InvalidClipFormat.at(field, why)
    return table


def _number(word: str, index: int, field: str) -> float:
    try:
        value = float(word) if "_" not in word else math.nan  # Python reads 1_0 as 10
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        why = f"line {index + 1}: {word[:40]!r} is not a finite number"
        raise InvalidClipFormat.at(field, why)
    return value


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True
