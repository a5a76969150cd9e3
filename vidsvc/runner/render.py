"""render(): one composition, start to finish, in a private workspace.

    check (no I/O) → stage inputs → probe → plan timeline → resolve fonts → build → compile
    → [before_run: the render cache may end it here] → write side files → run FFmpeg
    → move the MP4 and thumbnail out

Progress is reported in SPEC.md §4's bands and never goes backwards. The CLI calls this
directly; the service's pool (a later issue) calls it per claimed job.

Imports graph and the leaves; never vidsvc.http.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, ProcessingFailed
from vidsvc.runner import inputs, threads
from vidsvc.runner.captionfile import with_caption_file
from vidsvc.runner.coverage import missing_glyphs
from vidsvc.runner.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.runner.fontdir import link_files
from vidsvc.runner.fontfaces import font_face
from vidsvc.runner.fonts import resolve_font
from vidsvc.runner.probe import MediaInfo, probe
from vidsvc.runner.progress import Progress, eta_seconds
from vidsvc.runner.threads import counted, threads_for_job
from vidsvc.runner.userfonts import stage_fonts
from vidsvc.runner.workspace import workspace, write_files

#: (stage, first percentage, last percentage) — SPEC.md §4.
BANDS = {
    "downloading": (0.0, 20.0),
    "validating": (20.0, 25.0),
    "encoding": (25.0, 90.0),
    "uploading": (90.0, 99.0),
}
OnStage = Callable[[str, float, str], None]
OnRate = Callable[[float | None, float | None], None]  #: (eta_seconds, speed) while encoding


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What render() knows just before FFmpeg runs; handed to its `before_run` hook."""

    command: graph.Command
    staged: Mapping[str, Path]  #: input URL → staged file, in timeline order
    inputs: Mapping[str, MediaInfo]


#: Awaited once the command is compiled, before FFmpeg runs (the render cache). It may end the
#: render there by raising; the workspace is cleaned up as for any error.
BeforeRun = Callable[[Prepared], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderResult:
    video: Path
    thumbnail: Path
    duration_ms: int
    argv: tuple[str, ...]  #: the FFmpeg command, without the binary
    inputs: Mapping[str, MediaInfo]
    ffmpeg: FFmpegRun
    timings: Mapping[str, float]  #: seconds per stage
    sharing: float = 1.0  #: renders under way on average while FFmpeg ran (this one included)
    text: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: e.g. missing_glyphs


class Reporter:
    """Maps (stage, fraction) onto the stage bands, never letting the percentage go back."""

    def __init__(self, sink: OnStage | None) -> None:
        self.sink = sink
        self.percentage = 0.0
        self.stage = "queued"
        self.timings: dict[str, float] = {}
        self._started = time.monotonic()

    def __call__(self, stage: str, fraction: float = 0.0, message: str = "") -> None:
        if stage != self.stage:
            now = time.monotonic()
            if self.stage in BANDS:  # not the initial "queued": the caller knows the queue
                self.timings[self.stage] = round(now - self._started, 3)
            self.stage, self._started = stage, now
        low, high = BANDS[stage]
        self.percentage = max(self.percentage, low + (high - low) * min(max(fraction, 0.0), 1.0))
        if self.sink is not None:
            self.sink(stage, round(self.percentage, 1), message or stage)

    def finish(self) -> dict[str, float]:
        """Close the running stage's clock; returns seconds per stage."""
        self.timings[self.stage] = round(time.monotonic() - self._started, 3)
        return dict(self.timings)


def limits(settings: Settings) -> graph.Limits:
    return graph.Limits(
        max_duration_ms=round(settings.max_duration_seconds * 1000),
        max_clips=settings.max_clips,
        max_overlays=settings.max_overlays,
        max_text_chars=settings.max_text_chars,
    )


def url_fields(comp: spec.Composition) -> dict[str, str]:
    """Each distinct input URL with the first field that names it (for error messages)."""
    named = [(f"clips[{i}].url", c.url) for i, c in enumerate(comp.clips)]
    named += [("audio.music_url", comp.audio.music_url or "")]
    named += [("audio.voiceover_url", comp.audio.voiceover_url or "")]
    fields: dict[str, str] = {}
    for field, url in named:
        if url:
            fields.setdefault(url, field)
    return fields


def check(comp: spec.Composition, settings: Settings) -> None:
    """Everything knowable without I/O: the timeline rules and the URL policy."""
    graph.check(comp, limits(settings))
    for url, field in url_fields(comp).items():
        inputs.check_url(url, settings, field=field)
    if comp.captions is not None and comp.captions.url is not None:
        inputs.check_url(comp.captions.url, settings, field="captions.url")
    for i, font in enumerate(comp.fonts):
        inputs.check_url(font.url, settings, field=f"fonts[{i}].url")


async def _probe_all(
    staged: Mapping[str, Path], fields: Mapping[str, str], settings: Settings
) -> dict[str, MediaInfo]:
    async def one(url: str) -> tuple[str, MediaInfo]:
        return url, await probe(staged[url], settings, field=fields[url])

    return dict(await asyncio.gather(*(one(url) for url in staged)))


def _require_streams(comp: spec.Composition, infos: Mapping[str, MediaInfo]) -> None:
    for i, clip in enumerate(comp.clips):
        if not infos[clip.url].has_video:
            raise InvalidClipFormat(
                f"clips[{i}].url: has no video stream", details={"field": f"clips[{i}].url"}
            )
    for field in ("music_url", "voiceover_url"):
        url = getattr(comp.audio, field)
        if url and not infos[url].has_audio:
            raise InvalidClipFormat(
                f"audio.{field}: has no audio stream", details={"field": f"audio.{field}"}
            )


def encoding(comp: spec.Composition, settings: Settings, duration_ms: int) -> graph.Encoding:
    return graph.Encoding(
        duration_ms=duration_ms,
        crf=comp.output.crf if comp.output.crf is not None else settings.default_crf,
        preset=comp.output.preset or settings.x264_preset,
        threads=threads_for_job(settings),
        max_pixels=settings.max_input_pixels,
    )


async def _compile(
    comp: spec.Composition,
    settings: Settings,
    staged: Mapping[str, Path],
    report: Reporter,
    brought: Mapping[str, graph.FontFace] | None = None,
) -> tuple[graph.Command, dict[str, MediaInfo]]:
    brought = brought or {}
    names = [name for name in comp.text_fonts() if name not in brought]
    infos, paths = await asyncio.gather(  # fc-match runs while ffprobe does
        _probe_all(staged, url_fields(comp), settings),
        asyncio.gather(*(resolve_font(name, settings) for name in names)),
    )
    faces = await asyncio.gather(*(font_face(path) for path in paths))
    fonts = dict(zip(names, faces, strict=True)) | dict(brought)
    _require_streams(comp, infos)
    timeline = graph.plan(comp, {u: m.duration_ms for u, m in infos.items()}, limits(settings))
    report("validating", 0.8, "inputs validated")
    sources = {
        url: graph.Source(
            name=staged[url].name,
            duration_ms=info.duration_ms,
            has_video=info.has_video,
            has_audio=info.has_audio,
        )
        for url, info in infos.items()
    }
    built = graph.build(timeline, comp, sources, fonts)
    return graph.compile_command(built, encoding(comp, settings, timeline.duration_ms)), infos


@counted  # for the threads policy, from its start: see runner/threads.py
async def render(
    comp: spec.Composition,
    settings: Settings,
    *,
    video_out: Path,
    thumbnail_out: Path,
    name: str = "render",
    on_stage: OnStage | None = None,
    on_rate: OnRate | None = None,
    before_run: BeforeRun | None = None,
) -> RenderResult:
    """Render `comp` into `video_out` (MP4) and `thumbnail_out` (JPEG) with one FFmpeg run."""
    report = Reporter(on_stage)
    check(comp, settings)
    async with workspace(settings, name) as work:
        report("downloading", 0.0, "fetching inputs")

        def on_bytes(done: int, total: int | None) -> None:
            report("downloading", done / total if total else 0.0, "fetching inputs")

        fields = url_fields(comp)
        staged = await inputs.stage(list(fields), work, settings, on_bytes=on_bytes, fields=fields)
        comp = await with_caption_file(comp, work, settings)
        brought = await stage_fonts(comp, work, settings)
        report("validating", 0.0, "probing inputs")
        command, infos = await _compile(comp, settings, staged, report, brought)
        if before_run is not None:
            await before_run(Prepared(command=command, staged=staged, inputs=infos))
        write_files(work, command.files)
        link_files(work, command.links)
        text_facts = await _text_facts(comp)
        total_ms = command.expected_duration_ms
        report("encoding", 0.0, "encoding")

        def on_progress(p: Progress) -> None:
            if on_rate is not None:  # first: the report below carries it
                on_rate(eta_seconds(p, total_ms), p.speed)
            report("encoding", p.out_time_ms / total_ms, _encoding_message(p, total_ms))

        started = threads.mark()
        run = await run_ffmpeg(command.argv, settings=settings, cwd=work, on_progress=on_progress)
        sharing = threads.sharing_since(started)
        report("uploading", 0.0, "storing the output")  # the caller stores it (90–99 %)
        _move_out(work, video_out, thumbnail_out)
    return RenderResult(
        video=video_out,
        thumbnail=thumbnail_out,
        duration_ms=total_ms,
        argv=command.argv,
        inputs=infos,
        ffmpeg=run,
        timings=report.finish(),
        sharing=sharing,
        text=text_facts,
    )


async def _text_facts(comp: spec.Composition) -> dict[str, Any]:
    """`missing_glyphs`: characters of the texts that no installed font has (drawn as nothing
    recognisable, so the client is told instead)."""
    texts = [o.text for o in comp.overlays]
    if comp.captions is not None:
        texts += [c.text for c in (*comp.captions.cues, *comp.captions.words)]
    if not texts:
        return {}
    found = await missing_glyphs(texts)
    return {"missing_glyphs": found} if found else {}


def _encoding_message(p: Progress, total_ms: int) -> str:
    speed = f" at {p.speed:.2f}x" if p.speed else ""
    return f"encoded {p.out_time_ms / 1000:.1f} of {total_ms / 1000:.1f} s{speed}"


def _move_out(work: Path, video_out: Path, thumbnail_out: Path) -> None:
    produced = work / "out.mp4"
    if not produced.is_file() or produced.stat().st_size == 0:
        raise ProcessingFailed("ffmpeg finished without writing the output")
    video_out.parent.mkdir(parents=True, exist_ok=True)
    thumbnail_out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(produced, video_out)
    shutil.move(work / "thumb.jpg", thumbnail_out)
