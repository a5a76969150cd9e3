"""The clips' narrations measured: each staged narration's audible end (media/audible.py, cached
by the file's bytes), side by side, as the facts graph.plan places them by."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.media import audible
from vidsvc.media.probe import MediaInfo


def only_narrations(comp: spec.Composition) -> set[str]:
    """The URLs used as narrations and nothing else: measured, never probed."""
    kinds: dict[str, set[str]] = {}
    for found in comp.inputs():
        kinds.setdefault(found.url, set()).add(found.kind)
    return {url for url, used in kinds.items() if used == {"narration"}}


async def measure_all(
    comp: spec.Composition, staged: Mapping[str, Path], settings: Settings
) -> tuple[dict[str, graph.Heard], float, dict[str, MediaInfo]]:
    """Every distinct narration URL → its Heard facts, the wall time measuring took (0.0 when
    every one was cached), and what a probe would have said of each narration-only URL (the
    measurement reads what a render needs of it: sound and length, under the probe's
    whitelists and duration limit). An error names the first clip that gave the URL."""
    fields: dict[str, str] = {}
    for i, clip in enumerate(comp.clips):
        if clip.voiceover_url:
            fields.setdefault(clip.voiceover_url, f"clips[{i}].voiceover_url")
    if not fields:
        return {}, 0.0, {}

    async def one(url: str) -> tuple[str, audible.Audible]:
        return url, await audible.measure(staged[url], settings, field=fields[url])

    started = time.perf_counter()
    found = await asyncio.gather(*(one(url) for url in fields))
    ran = any(a.seconds > 0 for _, a in found)
    heard = {u: graph.Heard(duration_ms=a.duration_ms, audible_ms=a.audible_ms) for u, a in found}
    alone = only_narrations(comp)
    infos = {u: a.media_info() for u, a in found if u in alone}
    return heard, time.perf_counter() - started if ran else 0.0, infos


def notes(timeline: graph.Timeline, seconds: float) -> dict[str, Any]:
    """What the job's metadata says of the narrations: none, or how long measuring took and
    what the plan did that the request did not say."""
    if not any(s.voice for s in timeline.clips):
        return {}
    return {
        "narration": {"measure_seconds": round(seconds, 3), "warnings": list(timeline.warnings)}
    }
