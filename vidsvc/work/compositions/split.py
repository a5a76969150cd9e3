"""A split render on one machine: the parts of graph/split.py rendered side by side and joined.

What issue 27 distributes across instances, done here by one process: the composition is
staged, probed and its sound planned once (`prepare_split`); each video part is the graph of
its range, encoded without sound under the parts' pinned options; the sound part is the whole
timeline's mix as AAC; the join is smart rendering's concat by packet index, then checked
(split_join.py). With smart rendering's copies, a part encodes only its encode spans and the
join copies the rest from the sources; with renditions, a part writes a file of each shape
from one decode, and each rendition is joined apart. The service runs the same pieces as rows
on any instance (parts/): each instance calls `prepare_split` for the part it renders, the
join instance `join` (docs/rendering.md#split-renders); `run_split` runs them all here
(the bench, the tests).

Imports vidsvc.graph, vidsvc.media and the compositions modules it runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.graph import splice, splice_plan, split_pieces, window
from vidsvc.graph import split as parts
from vidsvc.graph.compile import command, head_args, thumbnail_args, video_codec
from vidsvc.graph.render_graph import thumbnail_frame
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.fontdir import link_files
from vidsvc.media.load import Load
from vidsvc.media.progress import FFmpegProgress
from vidsvc.media.workspace import write_files
from vidsvc.runner.reporter import Reporter
from vidsvc.work.compositions import passes, smart, sound
from vidsvc.work.compositions.facts import encoding, graph_sources
from vidsvc.work.compositions.prepared import Planned
from vidsvc.work.compositions.render import planned
from vidsvc.work.compositions.split_join import SOUND_ONLY, join

PLAN_ONLY = -2  #: prepare_split's `only` for the plan alone (no command compiled)


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitJob:
    """Everything a split render runs, compiled: any machine with the same facts may run a
    part's command in the same workspace files."""

    split: parts.Split
    video: tuple[graph.Command, ...]  #: one per part compiled (`built`), in order
    built: tuple[int, ...]  #: the parts compiled: every one, or the one asked for
    sound: tuple[str, ...]  #: the whole mix to splice.AUDIO_OUT (() when not compiled)
    encoding: graph.Encoding
    thumbnail: int  #: the part whose thumbnails are the output's (graph/split.py thumb_file)
    renditions: int  #: shapes: each part writes a file of each (graph/split.py part_file)
    pixels: int  #: of the output frames, every rendition's (what scales the child limits)
    copies: Mapping[str, Path]  #: each copied source's staged file (smart rendering)


async def prepare_split(
    comp: spec.Composition,
    settings: Settings,
    work: Path,
    sizing: parts.Sizing,
    *,
    threads: int = 0,
    plan: Planned | None = None,
    only: int | None = None,
) -> SplitJob:
    """Stage, probe and compile `comp` as the parts `sizing` asks for;
    `plan`: its inputs already staged and probed in `work`. `only`: compile that video part
    alone (SOUND_ONLY: the sound alone; PLAN_ONLY: nothing), as an instance rendering one
    part does, or the composition that plans them."""
    if comp.output.format != "mp4" or comp.output.range:
        raise ValueError("a split render is an mp4 of the whole timeline")
    plan = plan or await planned(comp, settings, work, Reporter(None))
    sources = graph_sources(plan.staged, plan.inputs)
    enc = encoding(comp, settings, plan.timeline.duration_ms, threads)
    # a loudness target's analysis pass serves the sound alone: the pictures never need it
    hears = only is None or only == SOUND_ONLY
    mixing = (
        comp
        if hears
        else dataclasses.replace(comp, audio=dataclasses.replace(comp.audio, loudness_lufs=None))
    )
    heard = await sound.hear(mixing, settings, work, plan.timeline, sources, plan.fonts, enc)
    whole, copies = await _whole(comp, settings, work, plan, heard, sources, enc, hears)
    split = parts.plan(heard.timeline, comp.output.fps, sizing, copies)
    shown = thumbnail_frame(comp.output, heard.timeline.duration_ms)
    holes = splice_plan.holes(split_pieces.whole(split), heard.timeline, shown)
    wanted = [p for p in split.parts if only is None or p.index == only]
    video = [_compiled(comp, heard, sources, plan, enc, split, part, shown, settings, holes)
             for part in wanted]  # fmt: skip
    return SplitJob(
        split=split,
        video=tuple(video),
        built=tuple(p.index for p in wanted),
        sound=parts.sound_argv(whole, enc, splice.AUDIO_OUT) if whole and hears else (),
        encoding=enc,
        thumbnail=split.holding(shown).index,
        renditions=len(comp.output.shapes()),
        pixels=sum(math.prod(shape.size) for shape in comp.output.shapes()),
        copies={u: plan.staged[u] for u in split_pieces.copy_names(split)},
    )


async def _whole(
    comp: spec.Composition,
    settings: Settings,
    work: Path,
    plan: Planned,
    heard: sound.Heard,
    sources: Mapping[str, graph.Source],
    enc: graph.Encoding,
    hears: bool,
) -> tuple[graph.Graph | None, tuple[splice_plan.Piece, ...]]:
    """The whole timeline's graph, and smart rendering's copied GOPs (none where it does not
    apply), decided as one render decides them: every instance that plans the split comes to
    the same ones. The sound is mixed from that graph in one FFmpeg (a render by parts takes
    its sound from a pass the split does not run: graph/parts.py) and smart rendering reads
    the text from it; a video part of an output smart rendering cannot apply to needs neither,
    so it is not built."""
    if not hears and smart.shape_reason(comp, enc) is not None:
        return None, ()
    whole = graph.build(heard.timeline, comp, sources, plan.fonts, heard.measured)
    decision = await smart.decide(
        comp, settings, work, plan.inputs, whole, heard.timeline, sources, enc
    )
    copies = () if decision.plan is None else tuple(p for p in decision.plan.pieces if p.source)
    return whole, copies


def _compiled(
    comp: spec.Composition,
    heard: sound.Heard,
    sources: Mapping[str, graph.Source],
    plan: Planned,
    enc: graph.Encoding,
    split: parts.Split,
    part: parts.Part,
    shown: int,
    settings: Settings,
    holes: Mapping[int, list[splice_plan.Span]],
) -> graph.Command:
    """One video part's command: the graph of its range, without sound, compiled. With
    copies (smart rendering), the part encodes only its encode spans, as a smart render's
    windows pass does: the copied frames of its clips left undecoded while its clips are
    few enough to hold open at once (else its clips are made by parts, decoded in full)."""
    shaped = dataclasses.replace(comp, output=parts.part_output(comp.output, part, shown))
    limit = settings.render_part_clips
    few = not limit or len(window.cut(heard.timeline, shaped.output).timeline.clips) <= limit
    holes = holes if split.copies and few else {}
    built = graph.build(heard.timeline, shaped, sources, plan.fonts, heard.measured, holes,
                        part_clips=limit, sound=False)  # fmt: skip
    part_enc = dataclasses.replace(enc, duration_ms=part.frames * 1000 // comp.output.fps)
    if not split.copies:
        return _part_command(built, part_enc, comp.output, split, part)
    part_enc = dataclasses.replace(part_enc, thumb_out=parts.thumb_file(part.index))
    return splice.windows_command(
        built, part_enc, split_pieces.part_plan(split, part),
        out=parts.part_file(part.index), script=f"part{part.index}-graph.txt",
    )  # fmt: skip


def _part_command(
    built: graph.Graph, enc: graph.Encoding, out: spec.Output, split: parts.Split, part: parts.Part
) -> graph.Command:
    """One video part: its range's pictures, x264 under the parts' pins, its thumbnail; with
    renditions, each shape's (graph.build's outputs: video, sound, thumbnail of the first,
    then video and thumbnail of each further one), all from one decode."""
    first, _, thumb, *more = built.outputs
    pads = [(first, thumb), *zip(more[::2], more[1::2], strict=True)]
    argv, files = head_args(built, enc, script=f"part{part.index}-graph.txt")
    for n, ((video, still), shape) in enumerate(zip(pads, out.shapes(), strict=True)):
        argv += [
            "-map", f"[{video}]", *video_codec(enc), "-pix_fmt", "yuv420p",
            *parts.part_args(shape, split.gop), "-t", f"{enc.duration_ms / 1000:.3f}",
            parts.part_file(part.index, n),
            *thumbnail_args(still, parts.thumb_file(part.index, n)),
        ]  # fmt: skip
    return command(built, enc, argv, files)


async def run_split(
    job: SplitJob, settings: Settings, work: Path, *, at_once: int = 2
) -> list[FFmpegRun]:
    """Every part (`at_once` at a time, the sound among them), then the join; the output is
    `job.encoding.video_out` in `work`."""
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for part in job.video:  # one workspace: the parts' text documents and fonts are the same
        for name, text in part.files.items():
            if files.setdefault(name, text) != text:
                raise ProcessingFailed(f"the parts disagree on {name}")
        links |= part.links
    write_files(work, files)
    link_files(work, links)
    turns = asyncio.Semaphore(at_once)

    async def mix() -> list[FFmpegRun]:
        async with turns:
            return [await run_ffmpeg(job.sound, settings=settings, cwd=work)]

    async def video(part: graph.Command) -> list[FFmpegRun]:
        async with turns:  # a part of many clips is itself made by parts (graph/parts.py)
            return await passes.run(part, None, settings, work, Load(), _quiet, pixels=job.pixels)

    done = await asyncio.gather(mix(), *(video(c) for c in job.video))
    joined = await join(job.split, job.encoding, settings, work, job.copies, job.renditions)
    return [*(run for runs in done for run in runs), *joined]


def _quiet(_: FFmpegProgress) -> None:
    """Parts report no progress yet (a split job's progress is issue 27's)."""
