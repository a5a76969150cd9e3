"""A split render on one machine: the parts of graph/split.py rendered side by side and joined.

What issue 27 distributes across instances, done here by one process: the composition is
staged, probed and its sound planned once (`prepare_split`); each video part is the graph of
its range, encoded without sound under the parts' pinned options; the sound part is the whole
timeline's mix as AAC; the join is smart rendering's concat by packet index, then checked (the
frame count of one pass, strictly increasing timestamps, one set of parameter sets). With
smart rendering's copies, a part encodes only its encode spans and the join copies the rest
from the sources. The service runs the same pieces as rows on any instance (parts/): each
instance calls `prepare_split` for the part it renders, the join instance `join`
(docs/rendering.md#split-renders); `run_split` runs them all here (the bench, the tests).

Imports vidsvc.graph, vidsvc.media and the compositions modules it runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping
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
from vidsvc.media.spliceable import VideoPackets, read_packets
from vidsvc.media.workspace import write_files
from vidsvc.runner.reporter import Reporter
from vidsvc.work.compositions import passes, smart, sound
from vidsvc.work.compositions.facts import encoding, graph_sources
from vidsvc.work.compositions.prepared import Planned
from vidsvc.work.compositions.render import planned

THUMB_OUT = "thumb{index}.jpg"
SOUND_ONLY = -1  #: prepare_split's `only` for the sound part
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
    thumbnail: int  #: the part whose thumbnail is the output's (THUMB_OUT)
    split_size: tuple[int, int]  #: the output frame's
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
    if comp.output.format != "mp4" or comp.output.renditions or comp.output.range:
        raise ValueError("a split render is one mp4 of the whole timeline")
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
    # the mix from a graph in one FFmpeg (a render by parts takes its sound from a pass the
    # split does not run: graph/parts.py); smart rendering reads the text from it
    whole = graph.build(heard.timeline, comp, sources, plan.fonts, heard.measured)
    decision = await smart.decide(
        comp, settings, work, plan.inputs, whole, heard.timeline, sources, enc
    )
    copies = () if decision.plan is None else tuple(p for p in decision.plan.pieces if p.source)
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
        sound=parts.sound_argv(whole, enc, splice.AUDIO_OUT) if hears else (),
        encoding=enc,
        thumbnail=split.holding(shown).index,
        split_size=comp.output.size,
        copies={u: plan.staged[u] for u in split_pieces.copy_names(split)},
    )


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
    if not split.copies:
        holes = {}
    elif limit and len(window.cut(heard.timeline, shaped.output).timeline.clips) > limit:
        holes = {}
    built = graph.build(heard.timeline, shaped, sources, plan.fonts, heard.measured, holes,
                        part_clips=limit, sound=False)  # fmt: skip
    part_enc = dataclasses.replace(enc, duration_ms=part.frames * 1000 // comp.output.fps)
    if not split.copies:
        return _part_command(built, part_enc, comp.output, split, part)
    part_enc = dataclasses.replace(part_enc, thumb_out=THUMB_OUT.format(index=part.index))
    return splice.windows_command(
        built, part_enc, split_pieces.part_plan(split, part),
        out=parts.PART_OUT.format(index=part.index), script=f"part{part.index}-graph.txt",
    )  # fmt: skip


def _part_command(
    built: graph.Graph, enc: graph.Encoding, out: spec.Output, split: parts.Split, part: parts.Part
) -> graph.Command:
    """One video part: its range's pictures, x264 under the parts' pins, its thumbnail."""
    video, _, thumb = built.outputs
    argv, files = head_args(built, enc, script=f"part{part.index}-graph.txt")
    argv += [
        "-map", f"[{video}]", *video_codec(enc), "-pix_fmt", "yuv420p",
        *parts.part_args(out, split.gop), "-t", f"{enc.duration_ms / 1000:.3f}",
        parts.PART_OUT.format(index=part.index),
        *thumbnail_args(thumb, THUMB_OUT.format(index=part.index)),
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
    pixels = math.prod(job.split_size)

    async def mix() -> list[FFmpegRun]:
        async with turns:
            return [await run_ffmpeg(job.sound, settings=settings, cwd=work)]

    async def video(part: graph.Command) -> list[FFmpegRun]:
        async with turns:  # a part of many clips is itself made by parts (graph/parts.py)
            return await passes.run(part, None, settings, work, Load(), _quiet, pixels=pixels)

    done = await asyncio.gather(mix(), *(video(c) for c in job.video))
    joined = await join(job.split, job.encoding, settings, work, job.copies)
    return [*(run for runs in done for run in runs), *joined]


def _quiet(_: FFmpegProgress) -> None:
    """Parts report no progress yet (a split job's progress is issue 27's)."""


class BadParts(ProcessingFailed):
    """Parts that cannot be joined as they are: missing, unreadable, short of frames, or with
    other parameter sets than the rest. `parts`: their indices (SOUND_ONLY: the sound)."""

    def __init__(self, message: str, bad: Iterable[int]) -> None:
        super().__init__(message)
        self.parts = tuple(sorted(set(bad)))


async def _readable(split: parts.Split, settings: Settings, work: Path) -> list[VideoPackets]:
    """Each part's packets; BadParts for those that are unreadable or not what the plan says
    (as many frames as the part encodes)."""
    names = [parts.PART_OUT.format(index=p.index) for p in split.parts]
    read = await asyncio.gather(
        *(read_packets(work / n, settings) for n in names), return_exceptions=True
    )
    bad = [p.index for p, got in zip(split.parts, read, strict=True)
           if isinstance(got, BaseException) or len(got.dts) != split.encoded(p)]  # fmt: skip
    if bad:
        raise BadParts(f"parts {bad} are missing, unreadable or short of frames", bad)
    ok = [got for got in read if isinstance(got, VideoPackets)]
    usual = Counter(p.extradata_sha256 for p in ok).most_common(1)[0][0]
    if odd := [i for i, p in enumerate(ok) if p.extradata_sha256 != usual]:
        raise BadParts(f"parts {odd} have other parameter sets: they cannot be joined", odd)
    return ok


async def _copied(
    split: parts.Split, copies: Mapping[str, Path], settings: Settings, work: Path
) -> tuple[list[FFmpegRun], dict[str, VideoPackets]]:
    """Each copied source's video alone in `work` (graph/splice.py strip_command), read."""
    names = split_pieces.copy_names(split)
    if not names:
        return [], {}
    pairs = [(str(copies[u]), name) for u, name in names.items()]
    run = await run_ffmpeg(splice.strip_command(pairs), settings=settings, cwd=work)
    read = await asyncio.gather(*(read_packets(work / n, settings) for n in names.values()))
    return [run], dict(zip(names.values(), read, strict=True))


async def join(
    split: parts.Split,
    enc: graph.Encoding,
    settings: Settings,
    work: Path,
    copies: Mapping[str, Path] | None = None,
) -> list[FFmpegRun]:
    """The parts and the sound in `work`, and the copied GOPs of the sources in `copies`
    (URL → staged file; smart rendering), joined without re-encoding into the output
    (`enc.video_out`), checked: BadParts names the parts that do not join, ProcessingFailed
    what else went wrong."""
    pieces, names = split_pieces.as_pieces(split)
    if not (work / splice.AUDIO_OUT).is_file():
        raise BadParts("the sound part is missing", (SOUND_ONLY,))
    read = await _readable(split, settings, work)
    runs, copied = await _copied(split, copies or {}, settings, work)
    if any(p.extradata_sha256 != read[0].extradata_sha256 for p in copied.values()):
        raise ProcessingFailed("the copied sources' parameter sets differ from the parts'")
    files = {parts.PART_OUT.format(index=p.index): got for p, got in zip(split.parts, read,
             strict=True)} | copied  # fmt: skip
    packets = {
        name: splice.Packets(pts=p.pts, dts=p.dts, time_base=p.time_base)
        for name, p in files.items()
    }
    (work / splice.CONCAT_LIST).write_text(
        splice.concat_document(pieces, names, packets), encoding="utf-8"
    )
    runs.append(await run_ffmpeg(splice.join_command(enc), settings=settings, cwd=work))
    joined = await read_packets(work / enc.video_out, settings)
    if len(joined.dts) != split.frames:
        raise ProcessingFailed(f"the join has {len(joined.dts)} of {split.frames} frames")
    if any(b <= a for a, b in zip(joined.dts, joined.dts[1:], strict=False)):
        raise ProcessingFailed("the join's timestamps are not strictly increasing")
    return runs
