"""The finishing facts a render's sound needs before its one main pass (issue 13).

- A loudness target: an audio-only analysis pass (graph.loudness.analysis: the render's own
  graph pruned to what feeds the mix, into ebur128) through the one spawn site; its measured
  loudness goes back into the graph as a fact and the main pass applies the gain.
- Beat sync: the music's beats (runner/beats.py, cached per input bytes) snap the planned
  timeline's cuts (graph.beatsync, pure).

render.py calls `prepare()` in place of graph.build; what was measured or moved comes back as
`notes` for the job's metadata. Imports graph and runner leaves; never vidsvc.http.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.graph import loudness
from vidsvc.runner.ffmpeg import run_ffmpeg


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    timeline: graph.Timeline
    graph: graph.Graph
    notes: Mapping[str, Any] = field(default_factory=dict)  #: for the job's metadata


async def measure(
    built: graph.Graph, enc: graph.Encoding, settings: Settings, work: Path
) -> tuple[loudness.Measured, float]:
    """The plain mix's loudness from an audio-only pass; (measured, wall seconds)."""
    started = time.monotonic()
    argv = loudness.analysis_argv(loudness.analysis(built), enc)
    run = await run_ffmpeg(argv, settings=settings, cwd=work)
    measured = loudness.parse_summary(run.stderr_tail)
    if measured is None:
        raise ProcessingFailed("the loudness analysis pass printed no ebur128 summary")
    return measured, time.monotonic() - started


async def prepare(
    comp: spec.Composition,
    settings: Settings,
    work: Path,
    timeline: graph.Timeline,
    sources: Mapping[str, graph.Source],
    fonts: Mapping[str, str],
    enc: graph.Encoding,
) -> Prepared:
    """The graph for the main pass, with the measured facts the composition asks for."""
    notes: dict[str, Any] = {}
    built = graph.build(timeline, comp, sources, fonts)
    target = comp.audio.loudness_lufs
    if target is not None:
        measured, seconds = await measure(built, enc, settings, work)
        built = graph.build(timeline, comp, sources, fonts, measured)
        notes["loudness"] = {
            "target_lufs": target,
            "measured_lufs": measured.integrated_lufs,
            "measured_true_peak_dbtp": measured.true_peak_dbtp,
            "gain_db": round(loudness.gain_db(target, measured), 2),
            "analysis_seconds": round(seconds, 3),
        }
    return Prepared(timeline=timeline, graph=built, notes=notes)
