"""Holes: a clip's copied frames, left undecoded in a smart render's windows pass.

The windows pass runs the whole graph so the encode spans get exactly the frames the one
pass would encode, but the frames of copied spans are dropped before the encoder: decoding
them is wasted work (on a 720p30 timeline about a tenth of a one pass's CPU). So a clip with
holes is decoded in runs, each its own input opened at its first frame, and every hole is
that many black frames; the runs and holes are concatenated back into the clip's frames
before anything else in the graph sees them. Audio still comes from one input over the clip.

A run starting at clip frame a seeks to source frame f = s0 + a with `-ss` at
floor(f * 1000 / fps) ms: FFmpeg keeps frames whose time is at or after the seek, so the
first is f (the trim rule of graph/splice_plan.py). Runs need not start on a keyframe: FFmpeg's
accurate seek decodes from the one before.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from vidsvc.graph.builder import Arg, GraphBuilder
from vidsvc.graph.model import Source

Span = tuple[int, int]  #: [first, end) in clip frames


def runs(frames: int, holes: Sequence[Span]) -> list[tuple[int, int, bool]]:
    """[0, frames) as (first, end, is_hole) in order."""
    parts: list[tuple[int, int, bool]] = []
    at = 0
    for first, end in sorted(holes):
        if first > at:
            parts.append((at, first, False))
        parts.append((first, end, True))
        at = end
    if at < frames:
        parts.append((at, frames, False))
    return parts


def _secs(ms: float) -> str:
    return f"{ms / 1000:.3f}"


def exact_frames(frames: int, fps: int, hold_ms: float) -> list[tuple[str, dict[str, Arg]]]:
    """A decoded video at `fps`, exactly `frames` long: cut to length before the costly
    per-pixel filters; tpad then holds the last frame of a source a little shorter than its
    trim (for up to `hold_ms`), and the second trim makes it exact."""
    return [
        ("fps", {"fps": fps}),
        ("trim", {"end_frame": frames}),
        ("tpad", {"stop_mode": "clone", "stop_duration": _secs(hold_ms)}),
        ("trim", {"end_frame": frames}),
    ]


def video(
    g: GraphBuilder,
    source: Source,
    in_ms: int,
    frames: int,
    fps: int,
    size: tuple[int, int],
    holes: Sequence[Span],
) -> str:
    """The clip's video before fit (constant `fps`, exactly `frames` frames), holes black."""
    w, h = size
    s0 = math.ceil(in_ms * fps / 1000)
    pads: list[str] = []
    for first, end, hole in runs(frames, holes):
        n = end - first
        if hole:
            pad = g.add("color", (), c="black", s=f"{w}x{h}", r=fps)
            steps: list[tuple[str, dict[str, Arg]]] = [("trim", {"end_frame": n})]
        else:
            seek_ms = (s0 + first) * 1000 // fps if first else in_ms
            options = (
                *source.open_options,
                "-ss",
                _secs(seek_ms),
                "-t",
                _secs(n * 1000 / fps + 100),
            )
            pad = f"{g.input(source.name, options)}:v"
            steps = [("setpts", {"expr": "PTS-STARTPTS"}), *exact_frames(n, fps, n * 1000 / fps)]
        steps += [("format", {"pix_fmts": "yuv420p"}), ("setsar", {"r": 1}),
                  ("settb", {"expr": "AVTB"})]  # fmt: skip
        pads.append(g.chain(pad, *steps))
    if len(pads) == 1:
        return pads[0]
    joined = g.add("concat", pads, n=len(pads), v=1, a=0)
    # concat dates each segment by its frames' mean spacing, a microsecond off after a short
    # one (and a one-frame segment ends where it starts); time-based filters downstream (the
    # xfade offset, text events) compare against exact times, so the frames get the very times
    # one pass gives them (fps's frames rescaled to AVTB, rounded), from their numbers
    return g.chain(joined, ("setpts", {"expr": f"round(N/({fps}*TB))"}))
