"""Checks that need settings or probe facts: the output shape gate (sizes above 1080p only with
ENABLE_4K_OUTPUT, docs/contract.md §3.1) and stills that need a length.

The schema checks a shape's form (names, even sides); whether this deployment may render it is
a setting, so it is checked here, at submit and again before rendering, before any input is
fetched. A refusal is VALIDATION_ERROR naming the field that asked and the setting.
"""

from __future__ import annotations

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidTimeline, ValidationError

#: The longest side rendered without ENABLE_4K_OUTPUT (1080p at 16:9 or 9:16).
MAX_SIDE = 1920
#: Named resolutions above 1080p.
LARGE = ("1440p", "2160p")


def check_output(out: spec.Output, settings: Settings) -> None:
    if out.animated:
        _check_animated(out, settings)
    if settings.enable_4k_output:
        return
    if out.renditions:
        for number, shape in enumerate(out.shapes()):
            _check_shape(shape, f"output.renditions[{number}].resolution")
    else:
        _check_shape(out, "output.width" if out.width is not None else "output.resolution")


def _check_animated(out: spec.Output, settings: Settings) -> None:
    """An animated image holds every frame whole: its size is capped (ANIMATED_MAX_SIDE)."""
    for number, shape in enumerate(out.shapes()):
        w, h = shape.size
        if max(w, h) > settings.animated_max_side:
            field = f"output.renditions[{number}]" if out.renditions else "output.width"
            raise ValidationError(
                f"{field}: a {out.format} of {w}x{h} is over ANIMATED_MAX_SIDE "
                f"({settings.animated_max_side} px on its longest side)",
                details={"field": field, "setting": "ANIMATED_MAX_SIDE"},
            )


def _check_shape(out: spec.Output, field: str) -> None:
    custom = out.width is not None
    w, h = out.size
    if custom and (out.height or 0) > MAX_SIDE and (out.width or 0) <= MAX_SIDE:
        field = "output.height"
    if (not custom and out.resolution in LARGE) or max(w, h) > MAX_SIDE:
        raise ValidationError(
            f"{field}: {w}x{h} is above 1080p (a side over {MAX_SIDE}); "
            "this needs ENABLE_4K_OUTPUT=true",
            details={"field": field, "setting": "ENABLE_4K_OUTPUT"},
        )


def check_stills(comp: spec.Composition, stills: set[str]) -> None:
    """A still has no length of its own: its clip must give one (probe told what is a still)."""
    for i, clip in enumerate(comp.clips):
        given = clip.duration_ms is not None or clip.duration_from_voiceover
        if clip.url in stills and not given and clip.end_ms is None:
            if clip.trim_end_ms is None:
                field = f"clips[{i}].duration"
                raise InvalidTimeline(
                    f"{field}: clips[{i}] is a still image; give it a duration "
                    "(or start_time and end_time)",
                    details={"field": field},
                )
