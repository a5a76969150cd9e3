"""Fit modes: how a clip's picture fills the output frame (docs/contract.md §3.1 `fit`).

- contain: the whole picture, letterboxed in black (the first release's behaviour);
- cover: scaled to fill, the centre cropped;
- blur: the whole picture over a blurred, darkened copy of itself scaled to cover, so there are
  no black bars. The copy is blurred at a quarter of the output size and scaled back up: a box
  blur on 1/16 of the pixels costs little, and the upscale smooths it further.

build.py sets SAR 1 and the pixel format after the fit.

Pure: imports vidsvc.graph only.
"""

from __future__ import annotations

from vidsvc.graph.builder import GraphBuilder

#: The blurred background is made at 1/BLUR_DOWNSCALE of the output's width and height.
BLUR_DOWNSCALE = 4
#: How much darker the background is than the picture (eq brightness, -1..1).
BLUR_DARKEN = -0.12


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def contain(g: GraphBuilder, pad: str, w: int, h: int) -> str:
    return g.chain(
        pad,
        ("scale", {"w": w, "h": h, "force_original_aspect_ratio": "decrease",
                   "force_divisible_by": 2}),
        ("pad", {"w": w, "h": h, "x": "(ow-iw)/2", "y": "(oh-ih)/2", "color": "black"}),
    )  # fmt: skip


def cover(g: GraphBuilder, pad: str, w: int, h: int) -> str:
    return g.chain(
        pad,
        ("scale", {"w": w, "h": h, "force_original_aspect_ratio": "increase",
                   "force_divisible_by": 2}),
        ("crop", {"w": w, "h": h}),  # centred by default
    )  # fmt: skip


def blur(g: GraphBuilder, pad: str, w: int, h: int) -> str:
    front, back = g.add_many("split", (pad,), "vv", 2)
    sw, sh = _even(w / BLUR_DOWNSCALE), _even(h / BLUR_DOWNSCALE)
    radius = max(1, min(sw, sh) // 10)
    back = g.chain(
        back,
        ("scale", {"w": sw, "h": sh, "force_original_aspect_ratio": "increase",
                   "force_divisible_by": 2}),
        ("crop", {"w": sw, "h": sh}),
        ("boxblur", {"luma_radius": radius, "luma_power": 2}),
        ("eq", {"brightness": BLUR_DARKEN}),
        ("scale", {"w": w, "h": h}),
        ("setsar", {"r": 1}),
    )  # fmt: skip
    front = g.chain(
        front,
        ("scale", {"w": w, "h": h, "force_original_aspect_ratio": "decrease",
                   "force_divisible_by": 2}),
        ("setsar", {"r": 1}),
    )  # fmt: skip
    return g.add("overlay", (back, front), x="(W-w)/2", y="(H-h)/2")


def fit(g: GraphBuilder, pad: str, w: int, h: int, mode: str) -> str:
    """`pad` scaled into a w x h frame (SAR 1) by `mode` (a name from spec.FITS)."""
    return {"contain": contain, "cover": cover, "blur": blur}[mode](g, pad, w, h)
