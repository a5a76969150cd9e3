"""Overlay animations as ASS override tags (`overlays[].animation`).

- `fade`: 300 ms in and out (a style's own fade_in/fade_out win);
- `pop`: scales up from 60 % past 108 % to 100 % in 250 ms, fading in over the first 120 ms;
- `slide_up`: rises by 6 % of the frame height into place over 350 ms, fading in;
- `typewriter`: the text appears grapheme cluster by grapheme cluster (never splitting a
  conjunct or a base and its marks); the part still to come is drawn fully transparent, so the
  layout never moves. One event per step, at most MAX_TYPE_STEPS steps, over at most
  TYPE_SHARE of the overlay's time (TYPE_MS_PER_CLUSTER per cluster when it fits).

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidsvc.graph import ass
from vidsvc.graph.layout import Placement
from vidsvc.graph.unibreak import clusters

FADE_MS = 300
MAX_TYPE_STEPS = 60
TYPE_SHARE = 0.6
TYPE_MS_PER_CLUSTER = 60
HIDDEN = "{\\alpha&HFF&}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    start_ms: int
    end_ms: int
    text: str  #: ASS event text (escaped)


def tags(animation: str, place: Placement, fade_in: int, fade_out: int, height: int) -> str:
    """The override block opening every event of one overlay."""
    pos = f"\\pos({place.x},{place.y})"
    if animation == "fade" and not (fade_in or fade_out):
        fade_in = fade_out = FADE_MS
    extra = ""
    if animation == "pop":
        fade_in = fade_in or 120
        extra = "\\fscx60\\fscy60\\t(0,170,\\fscx108\\fscy108)\\t(170,250,\\fscx100\\fscy100)"
    elif animation == "slide_up":
        fade_in = fade_in or 350
        rise = round(height * 0.06)
        pos = f"\\move({place.x},{place.y + rise},{place.x},{place.y},0,350)"
    fad = f"\\fad({fade_in},{fade_out})" if fade_in or fade_out else ""
    return "{" + f"\\an{place.an}{pos}{fad}{extra}" + "}"


def steps(animation: str, lines: list[str], start_ms: int, end_ms: int) -> list[Step]:
    """The events' times and texts: one for most animations, one per step for typewriter."""
    whole = "\\N".join(ass.escape_text(line) for line in lines)
    if animation != "typewriter":
        return [Step(start_ms=start_ms, end_ms=end_ms, text=whole)]
    parts = [list(clusters(line)) for line in lines]
    total = sum(len(c) for c in parts)
    if total <= 1:
        return [Step(start_ms=start_ms, end_ms=end_ms, text=whole)]
    n = min(total, MAX_TYPE_STEPS)
    typing = min(total * TYPE_MS_PER_CLUSTER, round((end_ms - start_ms) * TYPE_SHARE))
    out: list[Step] = []
    for k in range(1, n + 1):
        shown = round(k * total / n)
        t0 = start_ms + round((k - 1) * typing / n)
        t1 = end_ms if k == n else start_ms + round(k * typing / n)
        if t1 > t0:
            out.append(Step(start_ms=t0, end_ms=t1, text=_partial(parts, shown)))
    return out


def _partial(clusters: list[list[str]], shown: int) -> str:
    """All lines, the first `shown` clusters visible and the rest transparent."""
    parts: list[str] = []
    left = shown
    hidden = False
    for i, line in enumerate(clusters):
        if i:
            parts.append("\\N")
        visible, rest = line[: max(0, left)], line[max(0, left) :]
        left -= len(line)
        parts.append(ass.escape_text("".join(visible)))
        if rest:
            if not hidden:
                parts.append(HIDDEN)
                hidden = True
            parts.append(ass.escape_text("".join(rest)))
    return "".join(parts)
