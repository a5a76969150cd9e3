"""Where text sits and where its lines break: safe margins, anchors, wrap widths, line breaks.

libass places and wraps the text, but the libass in Debian bookworm (0.17.1, without
libunibreak) breaks lines only at spaces: a Chinese, Japanese or Thai line would run off the
frame. For paragraphs in those scripts the breaks are chosen here, at the Unicode line-break
opportunities of UAX #14 (ICU, through unibreak.py; Thai and its neighbours at dictionary
word boundaries), with a conservative width estimate per character (ideographs are one em
wide; everything else is counted at most 0.62 em), and a unit still wider than the line is
broken between grapheme clusters. A word too long for the line (a URL, a path) is broken the
same way. Other space-separated text is left to libass, which measures with the real font.

Linear in the text's length (docs/reliability.md L9: a caption file the caps allow must not
hold a worker thread for minutes): every width is a running sum over cached per-character
estimates, never a re-measure of the line so far.

Pure: imports the leaves and vidsvc.graph.unibreak only.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import unicodedata
from dataclasses import dataclass

from vidsvc import spec
from vidsvc.graph.unibreak import cluster_ends, line_units

#: Share of the frame's short side kept clear at every edge (named anchors sit inside it).
SAFE_MARGIN = 0.05
#: Estimated advance of a character that is not East Asian wide, in em (DejaVu Sans' widest
#: common Latin letters are 0.6-0.7 em; Thai, Arabic and Devanagari base letters are narrower).
NARROW_EM = 0.62
#: Scripts written without spaces between words, whose paragraphs are broken here.
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
)
#: libass alignment numbers (numpad layout) by (x anchor, y anchor).
_AN_COLUMN = {"left": 1, "center": 2, "right": 3}
_AN_ROW = {"bottom": 0, "center": 3, "top": 6}


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    an: int  #: libass alignment (1-9) for `\\an`
    x: int  #: the anchor point for `\\pos`
    y: int
    width: int  #: the wrap width in pixels
    align: str  #: left, center or right: how the lines of a block line up


def safe_margin(size: tuple[int, int]) -> int:
    return round(min(size) * SAFE_MARGIN)


def place(overlay: spec.TextOverlay, size: tuple[int, int]) -> Placement:
    """Anchor point, alignment and wrap width keeping the text inside the frame's safe area.

    The text block is a column `width` pixels wide, placed by `position` (a named x anchors
    it to that side of the safe area or centres it; pixels give its left edge); `align` lines
    the text up inside that column (default: the side of the x anchor)."""
    w, h = size
    m = safe_margin(size)
    x_name = overlay.x if isinstance(overlay.x, str) else "left"
    y_name = overlay.y if isinstance(overlay.y, str) else "top"
    limit = min(overlay.style.max_width or w - 2 * m, w - 2 * m)
    if isinstance(overlay.x, int):
        left = max(0, min(overlay.x, w - 16))
        width = max(16, min(limit, w - m - left))
    else:
        width = max(16, limit)
        left = {"left": m, "center": (w - width) // 2, "right": w - m - width}[overlay.x]
    align = overlay.style.align or x_name
    x = {"left": left, "center": left + width // 2, "right": left + width}[align]
    y = (
        overlay.y
        if isinstance(overlay.y, int)
        else {"top": m, "center": h // 2, "bottom": h - m}[overlay.y]
    )
    y = max(0, min(y, h))
    return Placement(an=_AN_ROW[y_name] + _AN_COLUMN[align], x=x, y=y, width=width, align=align)


@functools.lru_cache(maxsize=8192)
def char_em(ch: str) -> float:
    """A conservative estimate of one character's advance, in em."""
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0.0
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else NARROW_EM


def needs_own_breaks(paragraph: str) -> bool:
    """True for text libass cannot wrap: ideographs, kana, hangul, Thai and the like."""
    return any(map(_own_breaks, paragraph))


@functools.lru_cache(maxsize=8192)
def _own_breaks(ch: str) -> bool:
    code = ord(ch)
    if unicodedata.east_asian_width(ch) in ("W", "F") and code > 0x2FFF:
        return True
    return any(lo <= code <= hi for lo, hi in _NO_SPACE_RANGES)


def _width(text: str, em: float) -> float:
    return sum(map(char_em, text)) * em


def _units(paragraph: str, limit: float, em: float) -> list[tuple[str, float, float]]:
    """UAX #14 units with their widths (without and with trailing spaces), each unit over
    `limit` split further between grapheme clusters."""
    out: list[tuple[str, float, float]] = []
    for unit in line_units(paragraph):
        body = unit.rstrip()
        width = _width(body, em)
        if width <= limit:
            out.append((unit, width, width + _width(unit[len(body) :], em)))
        else:
            out.extend(_cut(unit, limit / em, em))
    return out


def _cut(unit: str, limit_em: float, em: float) -> list[tuple[str, float, float]]:
    """`unit` in pieces at most `limit_em` wide, cut between grapheme clusters (a piece's
    first cluster always goes in, however wide): one bisection per piece over running widths."""
    at = [0.0, *itertools.accumulate(map(char_em, unit))]
    ends = cluster_ends(unit)
    reach = [at[end] for end in ends]  #: the width from the unit's start to each cluster's end
    out: list[tuple[str, float, float]] = []
    start, k = 0, 0  #: the piece's first character and its first cluster
    while k < len(ends):
        j = max(k, bisect.bisect_right(reach, at[start] + limit_em, k) - 1)
        end = ends[j]
        body = len(unit[start:end].rstrip())
        out.append(
            (unit[start:end], (at[start + body] - at[start]) * em, (reach[j] - at[start]) * em)
        )
        start, k = end, j + 1
    return out


def _greedy(paragraph: str, limit: float, em: float) -> list[str]:
    lines: list[str] = []
    line: list[str] = []
    used = 0.0  #: the line's width so far, its trailing spaces included
    for unit, width, full in _units(paragraph, limit, em):
        if line and used + width > limit:
            lines.append("".join(line).rstrip())
            line, used = [], 0.0
        line.append(unit)
        used += full
    text = "".join(line)
    lines.append(text.rstrip() if lines else text)
    return lines


def _long_word(paragraph: str, width: int, em: float) -> bool:
    """A run without spaces that may not fit: libass would let it run off the frame."""
    return any(_width(word, em) > 0.8 * width for word in paragraph.split())


def break_lines(text: str, width: int, em: float) -> list[str]:
    """The text's lines: its own `\\n` breaks kept, plus breaks chosen here where libass
    could not find one (see the module docstring); other lines are wrapped by libass."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        own = needs_own_breaks(paragraph) or _long_word(paragraph, width, em)
        if own and _width(paragraph, em) > 0.8 * width:
            lines.extend(_greedy(paragraph, width, em))
        else:
            lines.append(paragraph)
    return lines
