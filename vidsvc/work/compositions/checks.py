"""What a composition asks for, checked: before any work (`check`, at POST and again when a job
starts) and once its inputs are probed (`require_streams`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.inputs import policy
from vidsvc.media.probe import MediaInfo, probe
from vidsvc.work.compositions import memory, sound
from vidsvc.work.compositions.shape import check_output


def limits(settings: Settings) -> graph.Limits:
    return graph.Limits(
        max_duration_ms=round(settings.max_duration_seconds * 1000),
        max_animated_ms=round(settings.animated_max_seconds * 1000),
        max_clips=settings.max_clips,
        max_overlays=settings.max_overlays,
        max_text_chars=settings.max_text_chars,
    )


def url_fields(comp: spec.Composition) -> dict[str, str]:
    """Each distinct media input URL (staged together and probed) with the first field that
    names it, for error messages."""
    fields: dict[str, str] = {}
    for found in comp.inputs():
        if found.media:
            fields.setdefault(found.url, found.field)
    return fields


def rules(comp: spec.Composition, settings: Settings) -> tuple[Callable[[], None], ...]:
    """Each check of `check`, in its order, to run apart: a template's are run one by one,
    each refusal about a placeholder's field set aside (templates.py)."""
    return (
        partial(check_output, comp.output, settings),
        partial(graph.check, comp, limits(settings)),
        partial(sound.check, comp, settings),  # ducking needs both tracks, beat_sync the setting
        partial(memory.admit, comp, settings),  # what cannot fit whatever its inputs are
        *(partial(policy.check_url, f.url, settings, field=f.field) for f in comp.inputs()),
    )


def check(comp: spec.Composition, settings: Settings) -> None:
    """Everything knowable without I/O: the timeline rules and the URL policy."""
    for rule in rules(comp, settings):
        rule()


async def probe_all(
    staged: Mapping[str, Path], fields: Mapping[str, str], settings: Settings
) -> dict[str, MediaInfo]:
    """Every staged input probed, side by side; errors name the field that gave its URL."""

    async def one(url: str) -> tuple[str, MediaInfo]:
        return url, await probe(staged[url], settings, field=fields[url])

    return dict(await asyncio.gather(*(one(url) for url in staged)))


def require_streams(comp: spec.Composition, infos: Mapping[str, MediaInfo]) -> None:
    """Clips and overlays need a picture; narrations, music, voiceover and tracks a sound."""
    for i, clip in enumerate(comp.clips):
        if not infos[clip.url].has_video:
            raise InvalidClipFormat(
                f"clips[{i}].url: has no video stream", details={"field": f"clips[{i}].url"}
            )
    for layer in comp.pictures:
        if not infos[layer.url].has_video:
            field = f"overlays[{comp.place_of(layer)}].url"
            raise InvalidClipFormat.at(field, "has no picture")
    sounds = [i for i in comp.inputs() if i.kind in ("narration", "music", "voiceover", "track")]
    for found in sounds:
        if not infos[found.url].has_audio:
            raise InvalidClipFormat.at(found.field, "has no audio stream")
