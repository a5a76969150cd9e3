"""Text overlays as drawtext filters on the final video.

The user's text never enters the graph string: it goes to a side file read with `textfile=`
and `expansion=none` (RELIABILITY.md C.1/C.2), so no quote, colon, bracket or `%{…}` can add a
filter or evaluate an expression. Fonts arrive resolved to files; colours, positions and sizes
were allow-listed by the schema.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping

from vidsvc import spec
from vidsvc.graph.builder import Arg, GraphBuilder, fmt
from vidsvc.graph.timeline import OverlaySlot


def _position(value: str | int, axis: str, margin: int) -> str:
    if isinstance(value, int):
        return str(value)
    extent, size = ("w", "text_w") if axis == "x" else ("h", "text_h")
    return {
        "center": f"({extent}-{size})/2",
        "left": str(margin),
        "top": str(margin),
        "right": f"{extent}-{size}-{margin}",
        "bottom": f"{extent}-{size}-{margin}",
    }[value]


def _alpha(start: float, end: float, fade_in: float, fade_out: float) -> str:
    """Opacity ramps at either end of the overlay's window."""
    expr = "1"
    if fade_out:
        expr = f"if(gt(t,{fmt(end - fade_out)}),({fmt(end)}-t)/{fmt(fade_out)},{expr})"
    if fade_in:
        expr = f"if(lt(t,{fmt(start + fade_in)}),(t-{fmt(start)})/{fmt(fade_in)},{expr})"
    return expr


def _options(slot: OverlaySlot, textfile: str, fontfile: str, margin: int) -> dict[str, Arg]:
    o, st = slot.overlay, slot.overlay.style
    start, end = slot.start_ms / 1000, slot.end_ms / 1000
    args: dict[str, Arg] = {
        "fontfile": fontfile,
        "textfile": textfile,
        "expansion": "none",
        "fontsize": st.size,
        "fontcolor": st.color,
        "x": _position(o.x, "x", margin),
        "y": _position(o.y, "y", margin),
        "fix_bounds": 1,
        "enable": f"between(t,{fmt(start)},{fmt(end)})",
    }
    if st.fade_in_ms or st.fade_out_ms:
        args["alpha"] = _alpha(start, end, st.fade_in_ms / 1000, st.fade_out_ms / 1000)
    if st.shadow:
        offset = max(1, st.size // 24)
        args |= {"shadowx": offset, "shadowy": offset, "shadowcolor": st.shadow_color}
    if st.box:
        args |= {"box": 1, "boxcolor": st.box_color, "boxborderw": st.box_padding}
    if st.outline:
        args |= {"borderw": st.outline, "bordercolor": st.outline_color}
    return args


def draw(
    g: GraphBuilder,
    video: str,
    overlays: tuple[OverlaySlot, ...],
    out: spec.Output,
    fonts: Mapping[str, str],
) -> str:
    """Draw every overlay, in order, over the joined video."""
    margin = round(out.size[1] * 0.05)
    for slot in overlays:
        textfile = g.text_file(slot.overlay.text.replace("\r\n", "\n").replace("\r", "\n"))
        fontfile = fonts[slot.overlay.style.font]
        video = g.add("drawtext", (video,), **_options(slot, textfile, fontfile, margin))
    return video
