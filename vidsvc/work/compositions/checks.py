"""What a composition asks for, checked: before any work (`check`, at POST and again when a job
starts) and once its inputs are probed (`require_streams`)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
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


def check(comp: spec.Composition, settings: Settings) -> None:
    """Everything knowable without I/O: the timeline rules and the URL policy."""
    check_output(comp.output, settings)
    graph.check(comp, limits(settings))
    sound.check(comp, settings)  # ducking needs both tracks, beat_sync the setting
    memory.admit(comp, settings)  # what cannot fit whatever its inputs are
    for found in comp.inputs():
        policy.check_url(found.url, settings, field=found.field)


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
