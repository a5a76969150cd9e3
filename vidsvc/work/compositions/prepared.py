"""What each phase of a render hands on: `Planned` (staged, probed, the timeline planned: a
dry run's answer), `Prepared` (compiled, nothing encoded: the render cache decides here),
`Encoded` (FFmpeg's files in the workspace) and `RenderResult` (render()'s, for the CLI and
tests). render.py makes them."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc import graph, spec
from vidsvc.graph import memory as graph_memory
from vidsvc.media import gpu
from vidsvc.media.ffmpeg import FFmpegRun
from vidsvc.media.probe import MediaInfo
from vidsvc.work.compositions import smart


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """What is known once the inputs are staged, probed and measured and the timeline is
    planned: all a dry run answers with, and where the render goes on from."""

    comp: spec.Composition  #: with a captions file's cues filled in
    staged: Mapping[str, Path]  #: input URL → staged file, in timeline order
    inputs: Mapping[str, MediaInfo]
    heard: Mapping[str, graph.Heard]  #: narration URL → its measured audible part
    timeline: graph.Timeline
    fonts: Mapping[str, graph.FontFace]  #: every family the texts ask for
    #: what the captions file was read as (work/compositions/captionfile.py), for the metadata
    captions: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    narration_seconds: float = 0.0  #: the narrations' measurement, wall time (0: cached)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What is known once the command is compiled, before anything is encoded."""

    command: graph.Command
    staged: Mapping[str, Path]  #: input URL → staged file, in timeline order
    inputs: Mapping[str, MediaInfo]
    built: graph.Graph  #: what the command was compiled from (to compile it for the CPU)
    encoding: graph.Encoding
    #: what sound.py measured or moved (loudness, beat sync), for the job's metadata
    notes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    text: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: e.g. missing_glyphs
    #: what the captions file was read as (work/compositions/captionfile.py), for the metadata
    captions: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: smart rendering's plan; with one, `command` encodes only its windows (smart.py)
    decision: smart.Decision = dataclasses.field(default_factory=smart.one_pass)
    output: spec.Output = dataclasses.field(default_factory=spec.Output)  #: the composition's
    memory: graph_memory.Estimate | None = None  #: what its FFmpeg will hold (graph/memory.py)
    preview: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: draft, range
    #: what it was compiled from (a split render plans its parts from it: parts/fanout.py)
    planned: Planned | None = None

    @property
    def pixels(self) -> int:
        """Of the output frames, every rendition's: what scales JOB_TIMEOUT and child limits."""
        return sum(math.prod(shape.size) for shape in self.output.shapes())

    def memory_summary(self) -> dict[str, Any]:
        """The estimate and the threads it chose, for the job's metadata."""
        if self.memory is None:
            return {}
        return {**self.memory.summary(), "memory_mode": "lean" if self.encoding.lean else "usual"}

    def one_pass(self) -> graph.Command:
        return graph.compile_command(self.built, self.encoding)

    def on_cpu(self) -> graph.Command:
        """The same render encoded with libx264 (when NVENC gave up)."""
        cpu = dataclasses.replace(self.encoding, encoder=gpu.X264)
        return graph.compile_command(self.built, cpu)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """One rendition's files (in the workspace) and its frame."""

    video: Path
    thumbnail: Path
    width: int
    height: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoded:
    """FFmpeg's run: every rendition's video and thumbnail (in the workspace)."""

    renditions: tuple[Rendered, ...]
    duration_ms: int
    argv: tuple[str, ...]  #: the command that made them, without the binary
    #: every FFmpeg run, the main one first (a smart render's strip and join too)
    runs: tuple[FFmpegRun, ...]
    sharing: float = 1.0  #: renders under way on average while FFmpeg ran (this one included)
    smart: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: Decision.summary()

    @property
    def ffmpeg(self) -> FFmpegRun:
        """The run that encoded (a smart render's windows pass)."""
        return self.runs[0]

    @property
    def video(self) -> Path:
        """The first rendition's video (the composition's own output)."""
        return self.renditions[0].video

    @property
    def thumbnail(self) -> Path:
        return self.renditions[0].thumbnail


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderResult:
    video: Path
    thumbnail: Path
    renditions: tuple[Rendered, ...]  #: every rendition's files (the first: video, thumbnail)
    duration_ms: int
    argv: tuple[str, ...]  #: the FFmpeg command, without the binary
    inputs: Mapping[str, MediaInfo]
    runs: tuple[FFmpegRun, ...]  #: Encoded.runs
    timings: Mapping[str, float]  #: seconds per stage
    sharing: float = 1.0  #: renders under way on average while FFmpeg ran (this one included)
    notes: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: Prepared.notes
    text: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: Prepared.text
    captions: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: Prepared.captions
    smart: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: Encoded.smart
    memory: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: memory_summary()

    @property
    def ffmpeg(self) -> FFmpegRun:
        return self.runs[0]
