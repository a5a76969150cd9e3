"""Motion on a clip (docs/contract.md §3.1 `motion`): slow zooms and pans, without jitter.

The window that is shown moves by a fraction of a pixel per frame. `zoompan` and `crop` place
their window on whole pixels, so a slow zoom shakes (the window's edge stalls, then jumps);
`perspective` maps four sub-pixel corners with bilinear interpolation, per frame, so the motion
is as even as the arithmetic. The measurements behind the choice are in the README (Motion).

Pure: imports vidsvc.graph only.
"""

from __future__ import annotations

from vidsvc.graph.builder import GraphBuilder, fmt


def window(motion: str, amount: float, frames: int) -> tuple[str, str, str, str]:
    """(left, top, right, bottom) of the source window as expressions of the frame index."""
    a = fmt(amount)
    p = f"(in/{max(frames - 1, 1)})"  # 0 at the first frame, 1 at the last
    if motion in ("zoom_in", "zoom_out"):
        # the window's margin on each side: grows (zoom in) or shrinks (zoom out) linearly
        share = f"{a}*{p}" if motion == "zoom_in" else f"{a}*(1-{p})"
        return f"W*{share}/2", f"H*{share}/2", f"W-W*{share}/2", f"H-H*{share}/2"
    # pans: a window `amount` smaller than the frame travels across it
    travel = {"pan_left": f"(1-{p})", "pan_right": p, "pan_up": f"(1-{p})", "pan_down": p}
    t = travel[motion]
    if motion in ("pan_left", "pan_right"):
        left, top = f"W*{a}*{t}", f"H*{a}/2"
    else:
        left, top = f"W*{a}/2", f"H*{a}*{t}"
    return left, top, f"{left}+W*(1-{a})", f"{top}+H*(1-{a})"


def move(g: GraphBuilder, pad: str, motion: str, amount: float, frames: int) -> str:
    """`pad` (already the output's size) with `motion` over `frames` frames; `none` is as is."""
    if motion == "none" or amount <= 0:
        return pad
    left, top, right, bottom = window(motion, amount, frames)
    return g.add(
        "perspective",
        (pad,),
        x0=left, y0=top, x1=right, y1=top, x2=left, y2=bottom, x3=right, y3=bottom,
        interpolation="linear",
        eval="frame",
    )  # fmt: skip
