"""Render memory at admission: a composition's estimate (graph/memory.py) against the limits.

Two moments: at POST, before any input is downloaded, the least the composition can need (each
clip a tiny picture) is checked, so only what cannot fit whatever its inputs are is refused;
once the inputs are probed, the render's own estimate decides, seconds into the job and
before FFmpeg starts, never minutes into an encode. Two limits: the address space one FFmpeg
may reserve (RLIMIT_AS, FFMPEG_MAX_MEMORY_MB or its derived default) and the resident memory
of the instance's render budget (RENDER_MEMORY_MB). When the usual threads would not fit, the
render is compiled `lean` (one decoding thread per input and for the filter graph: about a
third of the address space and two thirds of the memory of many inputs, ~20 % slower) and only
refused when even that does not fit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.errors import ValidationError
from vidsvc.graph import memory
from vidsvc.media.children import cores, memory_mb
from vidsvc.media.memory_gate import budget_mb
from vidsvc.media.probe import MediaInfo


def _fits(estimate: memory.Estimate, shape: memory.Shape, settings: Settings) -> bool:
    """Within both limits. A limit that not even a one-clip render of this output meets is the
    operator's choice, not this composition's size: RLIMIT_AS enforces it when FFmpeg runs."""
    least = memory.estimate(memory.one_clip(shape), cores())
    limit = memory_mb(settings, math.prod(shape.output))
    address_ok = estimate.address_mb <= limit or least.address_mb > limit
    memory_ok = estimate.rss_mb <= budget_mb(settings) or least.rss_mb > budget_mb(settings)
    return address_ok and memory_ok


def _refuse(comp: spec.Composition, estimate: memory.Estimate, settings: Settings) -> None:
    w, h = comp.output.size
    crossfades = sum(1 for c in comp.clips[1:] if spec.is_crossfade(c.transition))
    raise ValidationError(
        f"this composition needs about {estimate.rss_mb} MiB of memory and "
        f"{estimate.address_mb} MiB of address space to render "
        f"({len(comp.clips)} clips, {crossfades} crossfades at {w}x{h}), more "
        "than this server allows; use fewer clips or crossfades, or a smaller output",
        details={
            "field": "clips",
            "memory_estimate_mb": estimate.rss_mb,
            "address_space_estimate_mb": estimate.address_mb,
            "limit_mb": memory_mb(settings, w * h),
            "budget_mb": budget_mb(settings),
        },
    )


def admit(comp: spec.Composition, settings: Settings) -> None:
    """At POST: refuse what cannot fit even with the smallest inputs and the lean threads."""
    preset = comp.output.preset or settings.x264_preset
    shape = memory.with_lean(memory.least_shape(comp, preset, settings.render_part_clips))
    least = memory.estimate(shape, cores())
    if not _fits(least, shape, settings):
        _refuse(comp, least, settings)


def plan(
    built: graph.Graph,
    comp: spec.Composition,
    enc: graph.Encoding,
    infos: Mapping[str, MediaInfo],
    staged: Mapping[str, Path],
    settings: Settings,
) -> tuple[graph.Encoding, memory.Estimate]:
    """The encoding to compile `built` with (lean when needed) and its estimate; raises
    ValidationError when the render cannot fit at all."""
    pixels = {staged[url].name: (i.width or 0) * (i.height or 0) for url, i in infos.items()}
    sizes = [shape.size for shape in comp.output.shapes()]
    shape = memory.shape_of(built, sizes[0], enc.preset, pixels, tuple(sizes[1:]))
    usual = memory.estimate(shape, cores())
    if _fits(usual, shape, settings):
        return enc, usual
    lean_shape = memory.with_lean(shape)
    lean = memory.estimate(lean_shape, cores())
    if not _fits(lean, lean_shape, settings):
        _refuse(comp, lean, settings)
    return dataclasses.replace(enc, lean=True), lean
