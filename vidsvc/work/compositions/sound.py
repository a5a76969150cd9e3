"""The finishing facts a render's sound needs before its one main pass.

- A loudness target: an audio-only analysis pass (graph.loudness.analysis: the render's own
  graph pruned to what feeds the mix, into ebur128) through the one spawn site; its measured
  loudness goes back into the graph as a fact and the main pass applies the gain.
- Beat sync: the music's beats (vidsvc/beats/detect.py, cached per input bytes) snap the planned
  timeline's cuts (graph.beatsync, pure).

render.py calls `prepare()` in place of graph.build; what was measured or moved comes back as
`notes` for the job's metadata.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidsvc import graph, spec
from vidsvc.beats import detect as beats
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed, ValidationError
from vidsvc.graph import beatsync, loudness
from vidsvc.media import cpu
from vidsvc.media.ffmpeg import run_ffmpeg


@dataclass(frozen=True, slots=True, kw_only=True)
class Heard:
    timeline: graph.Timeline  #: with the cuts beat sync moved
    notes: Mapping[str, Any] = field(default_factory=dict)  #: for the job's metadata
    measured: loudness.Measured | None = None  #: a loudness target's analysis


@dataclass(frozen=True, slots=True, kw_only=True)
class Mixed:
    timeline: graph.Timeline
    graph: graph.Graph
    notes: Mapping[str, Any] = field(default_factory=dict)  #: for the job's metadata
    measured: loudness.Measured | None = None  #: what the graph was built with (to rebuild it)


def check(comp: spec.Composition, settings: Settings) -> None:
    """What the finishing fields need (at submit, with the other rules): no field is accepted
    that would do nothing."""
    a = comp.audio
    roles = {t.role for _, t in a.all_tracks()}
    narrated = [i for i, c in enumerate(comp.clips) if c.voiceover_url]
    if a.ducking is not None and not ("music" in roles and ("voice" in roles or narrated)):
        raise ValidationError(
            "audio.ducking: needs a music track (audio.music_url or a track of role music) "
            "and a voice (audio.voiceover_url, a track of role voice, or a clip's narration): "
            "the music ducks under the voice",
            details={"field": "audio.ducking"},
        )
    if comp.audio.beat_sync is None:
        return
    voiced = [i for i, c in enumerate(comp.clips) if c.duration_from_voiceover]
    if voiced:
        raise ValidationError(
            f"audio.beat_sync: cannot move the cuts of clips[{voiced[0]}], whose length is its "
            'narration\'s (duration "voiceover")',
            details={"field": "audio.beat_sync"},
        )
    if not settings.enable_beat_detection:
        raise ValidationError(
            "audio.beat_sync: needs ENABLE_BEAT_DETECTION=true on this server",
            details={"field": "audio.beat_sync", "setting": "ENABLE_BEAT_DETECTION"},
        )
    if not comp.audio.music_url:
        raise ValidationError(
            "audio.beat_sync: needs audio.music_url (the beats are the music's)",
            details={"field": "audio.beat_sync"},
        )


def music_beats_ms(found: beats.Detected, audio: spec.Audio, total_ms: int) -> list[int]:
    """The music's beats on the output clock: from music_start on, and past the analysed end
    (or the music's, when it loops) continued at the median beat, a steady grid."""
    times = [round(b * 1000) - audio.music_start_ms for b in found.beats]
    times = [t for t in times if t >= 0]
    if len(times) >= 2:
        step = round(statistics.median(b - a for a, b in itertools.pairwise(times)))
        while step > 0 and times[-1] <= total_ms:
            times.append(times[-1] + step)
    return times


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


async def hear(
    comp: spec.Composition,
    settings: Settings,
    work: Path,
    timeline: graph.Timeline,
    sources: Mapping[str, graph.Source],
    fonts: Mapping[str, graph.FontFace],
    enc: graph.Encoding,
) -> Heard:
    """What the composition's sound asks to be measured before any graph is built: the cuts
    beat sync moves, a loudness target's analysis (a split render needs no more than this)."""
    notes: dict[str, Any] = {}
    sync = comp.audio.beat_sync
    if sync is not None and comp.audio.music_url:
        music = sources[comp.audio.music_url]
        found = await beats.detect_file(work / music.name, settings, field="audio.music_url")
        grid = music_beats_ms(found, comp.audio, timeline.duration_ms)
        durations = {url: s.duration_ms for url, s in sources.items()}
        timeline, moved = beatsync.snap(timeline, grid, durations, sync)
        notes["beat_sync"] = {"bpm": found.bpm, "every": sync.every, "cuts": moved}
    target = comp.audio.loudness_lufs
    measured = None
    if target is not None:
        # measured on the one-FFmpeg graph: by parts, the sound passes through a file that
        # only the render writes (graph/parts.py); the mix is the same either way
        # ...and on the whole timeline's mix, so a range has the full render's gain
        whole = dataclasses.replace(comp, output=dataclasses.replace(comp.output, range=None))
        plain = await cpu.run(graph.build, timeline, whole, sources, fonts)
        whole_enc = dataclasses.replace(enc, duration_ms=timeline.duration_ms)
        measured, seconds = await measure(plain, whole_enc, settings, work)
        notes["loudness"] = {
            "target_lufs": target,
            "measured_lufs": measured.integrated_lufs,
            "measured_true_peak_dbtp": measured.true_peak_dbtp,
            "gain_db": round(loudness.gain_db(target, measured), 2),
            "analysis_seconds": round(seconds, 3),
        }
    return Heard(timeline=timeline, notes=notes, measured=measured)


async def prepare(
    comp: spec.Composition,
    settings: Settings,
    work: Path,
    timeline: graph.Timeline,
    sources: Mapping[str, graph.Source],
    fonts: Mapping[str, graph.FontFace],
    enc: graph.Encoding,
) -> Mixed:
    """The graph for the main pass, with the measured facts the composition asks for."""
    heard = await hear(comp, settings, work, timeline, sources, fonts, enc)
    built = await cpu.run(graph.build, heard.timeline, comp, sources, fonts, heard.measured,
                          part_clips=settings.render_part_clips)  # fmt: skip
    return Mixed(timeline=heard.timeline, graph=built, notes=heard.notes, measured=heard.measured)
