"""One composition's render, in two phases inside one workspace:

    prepare: check (no I/O) → stage inputs → probe → plan timeline → resolve fonts → build
             (with what sound.py measures: the loudness pass, beat sync) → compile
             (nothing encoded yet: the render cache decides here)
    encode:  write side files → run FFmpeg → `out.mp4` and `thumb.jpg` in the workspace

Each step reports through the job's Reporter (runner/reporter.py), FFmpeg's -progress as the
encoding stage. The composition handler runs the phases with the cache between them; `render()`
runs both for the CLI and the tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.graph import formats, splice_plan
from vidsvc.graph.render_graph import thumbnail_frame
from vidsvc.inputs import staging
from vidsvc.jobs import Stage
from vidsvc.media import cpu
from vidsvc.media.ffmpeg import FFmpegRun
from vidsvc.media.fontdir import link_files
from vidsvc.media.fonts import resolve_font
from vidsvc.media.load import Load
from vidsvc.media.probe import MediaInfo
from vidsvc.media.progress import FFmpegProgress, eta_seconds
from vidsvc.media.threads import threads_for_job
from vidsvc.media.workspace import workspace, write_files
from vidsvc.runner.reporter import Reporter, Sink
from vidsvc.work.compositions import memory, narration, passes, smart, sound
from vidsvc.work.compositions.captionfile import with_caption_file
from vidsvc.work.compositions.checks import (
    check,
    limits,
    probe_all,
    require_streams,
    url_fields,
)
from vidsvc.work.compositions.facts import encoding, graph_sources, preview, text_facts
from vidsvc.work.compositions.fontfaces import font_face
from vidsvc.work.compositions.luts import with_luts
from vidsvc.work.compositions.prepared import (
    Encoded,
    Planned,
    Prepared,
    Rendered,
    RenderResult,
)
from vidsvc.work.compositions.shape import check_stills
from vidsvc.work.compositions.userfonts import stage_fonts

log = logging.getLogger(__name__)


async def _probed(
    comp: spec.Composition,
    settings: Settings,
    staged: Mapping[str, Path],
    brought: Mapping[str, graph.FontFace],
) -> tuple[dict[str, MediaInfo], dict[str, graph.FontFace]]:
    """Every input probed and every font the texts ask for found (fc-match runs while ffprobe
    does); the composition's own fonts answer for their families."""
    names = [name for name in comp.text_fonts() if name not in brought]
    infos, paths = await asyncio.gather(
        probe_all(staged, url_fields(comp), settings),
        asyncio.gather(*(resolve_font(name, settings) for name in names)),
    )
    faces = await asyncio.gather(*(font_face(path) for path in paths))
    return infos, dict(zip(names, faces, strict=True)) | dict(brought)


async def planned(
    comp: spec.Composition, settings: Settings, work: Path, report: Reporter
) -> Planned:
    """Stage, probe and measure `comp`'s inputs in `work` and plan its timeline: what a dry
    run answers with, and every error a render would meet before encoding."""
    check(comp, settings)
    report(Stage.DOWNLOADING, 0.0, "fetching inputs")

    def on_bytes(done: int, total: int | None) -> None:
        report(Stage.DOWNLOADING, done / total if total else 0.0, "fetching inputs")

    fields = url_fields(comp)
    staged = await staging.stage(list(fields), work, settings, on_bytes=on_bytes, fields=fields)
    report(Stage.VALIDATING, 0.0, "probing inputs")
    comp, caption_file = await with_caption_file(comp, work, settings)  # captions.url, parsed
    comp = await with_luts(comp, work, settings)  # grades' LUTs: checked, written blended
    brought = await stage_fonts(comp, work, settings)  # fonts[]: the composition's own
    alone = narration.only_narrations(comp)  # measured below, not probed
    probed = {url: path for url, path in staged.items() if url not in alone}
    infos, fonts = await _probed(comp, settings, probed, brought)
    heard, seconds, sounds = await narration.measure_all(comp, staged, settings)
    infos = {url: sounds.get(url) or infos[url] for url in staged}  # in timeline order
    require_streams(comp, infos)
    stills = {u for u, m in infos.items() if m.still}
    check_stills(comp, stills)
    durations = {u: m.duration_ms for u, m in infos.items() if u not in stills}
    timeline = graph.plan(comp, durations, limits(settings), heard)
    report(Stage.VALIDATING, 0.8, "inputs validated")
    return Planned(
        comp=comp,
        staged=staged,
        inputs=infos,
        heard=heard,
        timeline=timeline,
        fonts=fonts,
        captions=caption_file,
        narration_seconds=seconds,
    )


async def _compile(
    p: Planned, settings: Settings, report: Reporter, threads: int, work: Path
) -> Prepared:
    comp, staged, infos, fonts, timeline = p.comp, p.staged, p.inputs, p.fonts, p.timeline
    sources = graph_sources(staged, infos)
    enc = encoding(comp, settings, timeline.duration_ms, threads)
    mixed = await sound.prepare(comp, settings, work, timeline, sources, fonts, enc)
    enc = encoding(comp, settings, mixed.timeline.duration_ms, threads)
    enc, needs = memory.plan(mixed.graph, comp, enc, infos, staged, settings)
    decision = await smart.decide(
        comp, settings, work, infos, mixed.graph, mixed.timeline, sources, enc
    )
    if decision.plan is None:
        command = await cpu.run(graph.compile_command, mixed.graph, enc)
    else:  # the same graph, the copied frames left undecoded
        holes = splice_plan.holes(
            decision.plan, mixed.timeline, thumbnail_frame(comp.output, mixed.timeline.duration_ms)
        )
        holed = await cpu.run(
            graph.build, mixed.timeline, comp, sources, fonts, mixed.measured, holes
        )
        decision, command, needs = await cpu.run(
            smart.windows, decision, holed, mixed.graph, comp, enc, needs, infos, staged, settings
        )
    return Prepared(
        decision=decision,
        command=command,
        staged=staged,
        inputs=infos,
        built=mixed.graph,
        encoding=enc,
        notes={**mixed.notes, **narration.notes(p.timeline, p.narration_seconds)},
        preview=preview(comp.output, timeline.duration_ms),
        text=await text_facts(comp),
        output=comp.output,
        memory=needs,
    )


async def prepare(
    comp: spec.Composition, settings: Settings, work: Path, report: Reporter, *, load: Load
) -> Prepared:
    """Stage, probe and compile `comp` in `work`; nothing is encoded yet."""
    plan = await planned(comp, settings, work, report)
    threads = threads_for_job(settings, load)
    prepared = await _compile(plan, settings, report, threads, work)
    return dataclasses.replace(prepared, captions=plan.captions, planned=plan)


async def encode(
    prepared: Prepared,
    settings: Settings,
    work: Path,
    report: Reporter,
    *,
    load: Load,
) -> Encoded:
    """Run the prepared command in `work`: `work/out.mp4` and `work/thumb.jpg`."""
    command = prepared.command
    write_files(work, command.files)
    link_files(work, command.links)  # the text engine's font directory
    total_ms = command.expected_duration_ms
    report(Stage.ENCODING, 0.0, "encoding")

    def on_progress(p: FFmpegProgress) -> None:
        report(Stage.ENCODING, p.out_time_ms / total_ms, _encoding_message(p, total_ms),
               eta=eta_seconds(p, total_ms), speed=p.speed)  # fmt: skip

    async def run_command(command: graph.Command) -> list[FFmpegRun]:
        return await passes.run(command, prepared.memory, settings, work, load, on_progress,
                                pixels=prepared.pixels)  # fmt: skip

    started = load.mark()
    decision, command, runs = await passes.smart(prepared, settings, work, run_command)
    if not runs:
        command, runs = await passes.one_pass(prepared, command, run_command)
    sharing = load.sharing_since(started)
    made = _rendered(prepared, work)
    report(Stage.UPLOADING, 0.0, "storing the output")  # the caller stores it
    return Encoded(
        renditions=made,
        duration_ms=total_ms,
        argv=command.argv,
        runs=tuple(runs),
        sharing=sharing,
        smart=decision.summary(),
    )


def _rendered(prepared: Prepared, work: Path) -> tuple[Rendered, ...]:
    """Every rendition's files as FFmpeg left them; ProcessingFailed if one is missing."""
    enc, made = prepared.encoding, []
    for number, shape in enumerate(prepared.output.shapes()):
        video = work / graph.output_name(enc.video_out, number)
        if not video.is_file() or video.stat().st_size == 0:
            raise ProcessingFailed("ffmpeg finished without writing the output")
        thumbnail = work / graph.output_name(enc.thumb_out, number)
        width, height = shape.size
        made.append(Rendered(video=video, thumbnail=thumbnail, width=width, height=height))
    return tuple(made)


async def render(
    comp: spec.Composition,
    settings: Settings,
    *,
    video_out: Path,
    thumbnail_out: Path,
    name: str = "render",
    on_progress: Sink | None = None,
) -> RenderResult:
    """Render `comp` into `video_out` and `thumbnail_out` (JPEG) with one FFmpeg run, as the
    only render of this process (the CLI, tests). A further rendition N goes beside them, its
    names numbered as graph.output_name numbers them (`out.mp4`, `out1.mp4`); the video's
    extension is its format's (`out.mp4` of a gif is written `out.gif`)."""
    report, load = Reporter(on_progress), Load()
    async with workspace(settings, name) as work:
        with load.render():
            prepared = await prepare(comp, settings, work, report, load=load)
            encoded = await encode(prepared, settings, work, report, load=load)
        moved = []
        ext = f".{formats.format_of(comp.output.format).extension}"
        video_out = video_out if video_out.suffix.lower() == ext else video_out.with_suffix(ext)
        for number, made in enumerate(encoded.renditions):
            video = video_out.with_name(graph.output_name(video_out.name, number))
            thumb = thumbnail_out.with_name(graph.output_name(thumbnail_out.name, number))
            video.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(made.video, video)
            shutil.move(made.thumbnail, thumb)
            moved.append(dataclasses.replace(made, video=video, thumbnail=thumb))
    return RenderResult(
        video=video_out,
        thumbnail=thumbnail_out,
        renditions=tuple(moved),
        duration_ms=encoded.duration_ms,
        argv=encoded.argv,
        inputs=prepared.inputs,
        runs=encoded.runs,
        timings=report.finish(),
        sharing=encoded.sharing,
        notes=prepared.notes,
        text=prepared.text,
        captions=prepared.captions,
        smart=encoded.smart,
        memory=prepared.memory_summary(),
    )


def _encoding_message(p: FFmpegProgress, total_ms: int) -> str:
    speed = f" at {p.speed:.2f}x" if p.speed else ""
    return f"encoded {p.out_time_ms / 1000:.1f} of {total_ms / 1000:.1f} s{speed}"
