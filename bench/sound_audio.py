"""The audio side of a finished-sound render alone: what ducking and a loudness target cost
without the video encode's noise (bench.sound times whole renders; x264 is ~97% of their CPU).

For one spec: stage and probe its inputs, plan it, and let work/compositions/sound.py prepare
the graph (which runs the loudness analysis pass when asked: its wall time is `prepare`);
then run the final graph's audio alone (graph.loudness.analysis: the mix, video never
decoded) through the one spawn site and read FFmpeg's own CPU time.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

from vidsvc import graph
from vidsvc.__main__ import cli_settings, load_composition
from vidsvc.graph import loudness
from vidsvc.inputs import staging as inputs
from vidsvc.media.ffmpeg import run_ffmpeg
from vidsvc.media.fonts import resolve_font
from vidsvc.media.probe import probe
from vidsvc.media.workspace import workspace
from vidsvc.work.compositions import sound
from vidsvc.work.compositions.checks import limits, url_fields
from vidsvc.work.compositions.facts import encoding, graph_sources
from vidsvc.work.compositions.fontfaces import font_face


@dataclass(frozen=True, slots=True)
class AudioCost:
    prepare_s: float  #: staging to graph, the loudness analysis pass included
    analysis_s: float  #: of which the analysis pass (0 without a loudness target)
    mix_wall_s: float  #: the final mix alone, wall
    mix_cpu_s: float  #: the final mix alone, FFmpeg's CPU


async def audio_cost(spec_path: Path) -> AudioCost:
    comp = load_composition(spec_path)
    settings = cli_settings(os.environ)
    async with workspace(settings, "bench-sound") as work:
        fields = url_fields(comp)
        staged = await inputs.stage(list(fields), work, settings, fields=fields)
        started = time.perf_counter()
        infos = {
            url: await probe(path, settings, field=fields[url]) for url, path in staged.items()
        }
        fonts = {
            name: await font_face(await resolve_font(name, settings)) for name in comp.text_fonts()
        }
        durations = {u: m.duration_ms for u, m in infos.items()}
        timeline = graph.plan(comp, durations, limits(settings))
        sources = graph_sources(staged, infos)
        enc = encoding(comp, settings, timeline.duration_ms, 0)
        ready = await sound.prepare(comp, settings, work, timeline, sources, fonts, enc)
        prepare_s = time.perf_counter() - started
        argv = loudness.analysis_argv(loudness.analysis(ready.graph), enc)
        run = await run_ffmpeg(argv, settings=settings, cwd=work)
    analysis_s = float(ready.notes.get("loudness", {}).get("analysis_seconds", 0.0))
    return AudioCost(prepare_s, analysis_s, run.elapsed_s, run.cpu_s or 0.0)


def measure(spec_path: Path) -> AudioCost:
    return asyncio.run(audio_cost(spec_path))
