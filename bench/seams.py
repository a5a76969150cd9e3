"""Where the benchmark reaches into vidsvc: the one module of bench that imports vidsvc's
internals (everything but the public `vidsvc.client`), so a refactor of vidsvc touches this
file and no other in bench. An import-linter contract (pyproject.toml) holds it so.

Each function does what a render does up to a point, or reads one figure out of it, and
returns plain values: the measures never hold a vidsvc object.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc import cliptask, graph
from vidsvc.__main__ import cli_settings, load_composition
from vidsvc.config import Settings
from vidsvc.errors import ConfigError, VidsvcError
from vidsvc.graph import captions, clip_ops, loudness, splice_plan
from vidsvc.graph.compile import Encoding, video_codec
from vidsvc.graph.escape import filter_args
from vidsvc.graph.model import SOUND
from vidsvc.graph.motion import window
from vidsvc.graph.split import Sizing as Sizing
from vidsvc.inputs import staging
from vidsvc.media import cpu
from vidsvc.media import feed as media_feed
from vidsvc.media import ffmpeg as media_ffmpeg
from vidsvc.media import ffreport as media_ffreport
from vidsvc.media.children import memory_mb
from vidsvc.media.ffmpeg import run_ffmpeg
from vidsvc.media.ffreport import BENCHMARK_ARGS, REPORT_ENV, REPORT_FILE, Usage, collect
from vidsvc.media.ffreport import resident_peak_mb as resident_peak_mb
from vidsvc.media.fontdir import link_files
from vidsvc.media.fonts import resolve_font
from vidsvc.media.load import Load
from vidsvc.media.probe import probe
from vidsvc.media.workspace import workspace, write_files
from vidsvc.runner.looplag import LoopLag
from vidsvc.runner.reporter import Reporter
from vidsvc.schema import parse_composition
from vidsvc.work.compositions import narration as narrations
from vidsvc.work.compositions import render as compositions
from vidsvc.work.compositions import sound
from vidsvc.work.compositions.cache import render_key
from vidsvc.work.compositions.checks import check, limits, probe_all, url_fields
from vidsvc.work.compositions.facts import encoding, graph_sources
from vidsvc.work.compositions.fontfaces import font_face
from vidsvc.work.compositions.split import prepare_split, run_split
from vidsvc.work.compositions.split_join import join as join_split

__all__ = ["Settings", "Usage", "resident_peak_mb"]


class Refused(RuntimeError):
    """vidsvc refused a composition or its settings."""


def settings(env: Mapping[str, str]) -> Settings:
    """vidsvc's settings from environment variables; Refused names a bad one."""
    try:
        return Settings.from_env(dict(env))
    except (VidsvcError, ConfigError) as exc:
        raise Refused(str(exc)) from None


def memory_limit_mb(config: Settings) -> int:
    """The address-space limit the service puts on each FFmpeg (FFMPEG_MAX_MEMORY_MB)."""
    return memory_mb(config)


def compile_command(spec: Path, work: Path, preset: str) -> tuple[list[str], int]:
    """What a render does before it spawns FFmpeg, minus the spawn, in `work`: (the whole
    command, FFmpeg binary first; the distinct inputs staged and probed). X264_PRESET only
    matters when the spec sets no output.preset."""

    async def prepare() -> tuple[list[str], int]:
        comp = load_composition(spec)
        config = cli_settings({**os.environ, "X264_PRESET": preset})
        prepared = await compositions.prepare(comp, config, work, Reporter(), load=Load())
        command = prepared.command
        write_files(work, command.files)
        link_files(work, command.links)  # the text engine's font directory
        return [config.ffmpeg_bin, *command.argv], len(prepared.staged)

    try:
        return asyncio.run(prepare())
    except (VidsvcError, ConfigError) as exc:
        raise Refused(f"vidsvc could not compile {spec}: {exc}") from None


def prepare_lag(spec: Path, work: Path, *, on_loop: bool) -> tuple[float, list[float]]:
    """Prepare `spec` in `work` as a render does (stage, probe, captions, fonts, layout, graph,
    command) with the loop-lag monitor running: (seconds, every lag sample). `on_loop`: the
    CPU-bound steps run on the event loop instead of media/cpu.py's threads (how it was)."""

    comp = load_composition(spec)  # the service parses a body on the threads too

    async def prepare() -> tuple[float, list[float]]:
        samples: list[float] = []
        monitor = LoopLag(samples.append)
        monitor.start()
        started = time.perf_counter()
        config = cli_settings(os.environ)
        prepared = await compositions.prepare(comp, config, work, Reporter(), load=Load())
        await render_key(comp, prepared, config)  # what the job does next, on the loop
        took = time.perf_counter() - started
        await asyncio.sleep(0.15)  # the sample that the last stretch delayed
        await monitor.stop()
        return took, samples

    async def inline(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    threaded, cpu.run = cpu.run, inline if on_loop else cpu.run
    try:
        return asyncio.run(prepare())
    finally:
        cpu.run = threaded


def self_measured(argv: list[str], cwd: Path, log: Path) -> tuple[int, Usage | None]:
    """Run FFmpeg with `-benchmark` and an FFREPORT file: (exit code, its own usage)."""
    (cwd / REPORT_FILE).unlink(missing_ok=True)
    with log.open("w") as out:
        done = subprocess.run(
            [argv[0], *BENCHMARK_ARGS, *argv[1:]],  # a global option: right after the binary
            cwd=cwd,
            env={**os.environ, **REPORT_ENV},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return done.returncode, collect(cwd)


def x264_options(preset: str, crf: int) -> list[str]:
    """vidsvc's own video encoder options at `preset` and `crf`."""
    return list(video_codec(Encoding(duration_ms=0, crf=crf, preset=preset)))


@dataclass(frozen=True)
class Rendered:
    video: Path
    wall_s: float  #: the render call, start to end
    memory_peak_mb: float | None  #: the main FFmpeg's peak (by parts: plus the largest part's)
    cpu_s: float  #: every FFmpeg run's own CPU seconds
    smart: Mapping[str, Any]  #: the smart-render plan, as the job metadata reports it


async def render_document(doc: Mapping[str, Any], config: Settings, video: Path) -> Rendered:
    """A composition document rendered in this process, as the CLI renders."""
    comp = parse_composition(dict(doc))
    started = time.monotonic()
    result = await compositions.render(
        comp, config, video_out=video, thumbnail_out=video.with_suffix(".jpg")
    )
    wall = time.monotonic() - started
    cpu = sum(run.cpu_s or 0.0 for run in result.runs)
    return Rendered(result.video, wall, result.ffmpeg.memory_peak_mb, cpu, result.smart)


async def normalize(raw: Path, out: Path, config: Settings) -> Path:
    """vidsvc's own `normalize` clip operation (render-ready) on one file, cached."""
    if out.exists():
        return out
    work = out.parent / f"work-{raw.stem}"
    work.mkdir(parents=True, exist_ok=True)
    link = work / "in0.mp4"
    link.unlink(missing_ok=True)
    link.symlink_to(raw)
    info = await probe(link, config, field="clip")
    source = graph.Source(name="in0.mp4", duration_ms=info.duration_ms, has_video=True,
                          has_audio=info.has_audio)  # fmt: skip
    enc = graph.Encoding(duration_ms=info.duration_ms, preset=config.x264_preset,
                         crf=config.default_crf)  # fmt: skip
    task = cliptask.ClipTask(processing_id="bench", clips=("x",), operations=("normalize",))
    command = clip_ops.compile_clip(clip_ops.build_clip(task, source), enc)
    await run_ffmpeg(command.argv, settings=config, cwd=work)
    (work / command.files["normalized"]).rename(out)
    return out


@contextmanager
def copy_threshold_lifted() -> Iterator[None]:
    """Smart rendering copies even when little can be copied (what the threshold prevents)."""
    before, splice_plan.MIN_COPY_SHARE = splice_plan.MIN_COPY_SHARE, 0.0
    try:
        yield
    finally:
        splice_plan.MIN_COPY_SHARE = before


@dataclass(frozen=True)
class Text:
    text: str
    x: str
    y: str
    start_s: float
    end_s: float
    size: int


def text_layout(doc: Mapping[str, Any], width: int) -> tuple[list[Text], list[Text]]:
    """A document's text overlays, and its captions in the reading groups (lines) the text
    engine makes at `width` pixels, each as one piece of text with its times."""
    comp = parse_composition(dict(doc))
    overlays = [
        Text(o.text, str(o.x), str(o.y), o.start_ms / 1000,
             o.start_ms / 1000 + (o.duration_ms or 0) / 1000, o.style.size)
        for o in comp.texts
    ]  # fmt: skip
    lines: list[Text] = []
    cap = comp.captions
    if cap is not None:
        for group in captions.group(list(cap.words), width, float(cap.style.size)):
            words = " ".join(w.text for w in group)
            start, end = group[0].start_ms / 1000, group[-1].end_ms / 1000
            lines.append(Text(words, "center", "bottom", start, end, cap.style.size))
    return overlays, lines


def zoom_perspective(amount: float, frames: int) -> str:
    """The `perspective` filter vidsvc's motion builds for a zoom in by `amount`."""
    left, top, right, bottom = window("zoom_in", amount, frames)
    corners = {"x0": left, "y0": top, "x1": right, "y1": top,
               "x2": left, "y2": bottom, "x3": right, "y3": bottom}  # fmt: skip
    args = (*tuple(corners.items()), ("interpolation", "linear"), ("eval", "frame"))
    return f"perspective={filter_args(args)}"


@dataclass(frozen=True, slots=True)
class AudioCost:
    prepare_s: float  #: staging to graph, the loudness analysis pass included
    analysis_s: float  #: of which the analysis pass (0 without a loudness target)
    mix_wall_s: float  #: the final mix alone, wall
    mix_cpu_s: float  #: the final mix alone, FFmpeg's CPU


def audio_cost(spec_path: Path) -> AudioCost:
    """A spec's audio side alone: stage and probe its inputs, plan it, let the sound stage
    prepare the graph (which runs the loudness analysis pass when asked), then run the final
    graph's audio (the mix, video never decoded) through the one spawn site."""
    return asyncio.run(_audio_cost(spec_path))


async def _audio_cost(spec_path: Path) -> AudioCost:
    comp = load_composition(spec_path)
    config = cli_settings(os.environ)
    async with workspace(config, "bench-sound") as work:
        fields = url_fields(comp)
        staged = await staging.stage(list(fields), work, config, fields=fields)
        started = time.perf_counter()
        infos = {url: await probe(path, config, field=fields[url]) for url, path in staged.items()}
        fonts = {
            name: await font_face(await resolve_font(name, config)) for name in comp.text_fonts()
        }
        durations = {u: m.duration_ms for u, m in infos.items()}
        timeline = graph.plan(comp, durations, limits(config))
        sources = graph_sources(staged, infos)
        enc = encoding(comp, config, timeline.duration_ms, 0)
        ready = await sound.prepare(comp, config, work, timeline, sources, fonts, enc)
        prepare_s = time.perf_counter() - started
        argv = loudness.analysis_argv(loudness.analysis(ready.graph), enc)
        run = await run_ffmpeg(argv, settings=config, cwd=work)
    analysis_s = float(ready.notes.get("loudness", {}).get("analysis_seconds", 0.0))
    return AudioCost(prepare_s, analysis_s, run.elapsed_s, run.cpu_s or 0.0)


def plan_steps(doc: Mapping[str, Any]) -> dict[str, float]:
    """What a dry run does (work/compositions/render.py `planned`), each step timed, in this
    process: stage the inputs, probe them all (side by side, the font lookups beside them),
    measure the narrations (cached here by their bytes, as in the service), plan the timeline.
    Seconds per step, and the number of inputs probed and narrations measured."""
    return asyncio.run(_plan_steps(parse_composition(dict(doc))))


async def _plan_steps(comp: Any) -> dict[str, float]:
    config = cli_settings(os.environ)
    check(comp, config)
    async with workspace(config, "bench-plan") as work:
        t0 = time.perf_counter()
        fields = url_fields(comp)
        staged = await staging.stage(list(fields), work, config, fields=fields)
        t1 = time.perf_counter()
        alone = narrations.only_narrations(comp)  # measured, not probed (as planned() does)
        infos, _ = await asyncio.gather(
            probe_all({u: p for u, p in staged.items() if u not in alone}, fields, config),
            asyncio.gather(*(resolve_font(name, config) for name in comp.text_fonts())),
        )
        t2 = time.perf_counter()
        heard, _, sounds = await narrations.measure_all(comp, staged, config)
        infos |= sounds
        t3 = time.perf_counter()
        durations = {u: m.duration_ms for u, m in infos.items() if not m.still}
        graph.plan(comp, durations, limits(config), heard)
        t4 = time.perf_counter()
    return {"stage": t1 - t0, "probe": t2 - t1, "measure": t3 - t2, "plan": t4 - t3,
            "inputs": float(len(staged)), "narrations": float(len(heard))}  # fmt: skip


#: The av_log level of a census's FFREPORT: 40, verbose, where FFmpeg's closing statistics
#: count each input stream's packets read and frames decoded (the renders' own reports are at
#: 32, info, which carries only the -benchmark lines).
CENSUS_LEVEL = 40
_ROLE: contextvars.ContextVar[str] = contextvars.ContextVar("bench_census_role", default="")


@dataclass(frozen=True)
class Spawned:
    """One FFmpeg a render ran."""

    role: str  #: "loudness analysis", "sound pass", "part 1", "part 2", …, "main"
    argv: tuple[str, ...]  #: as spawned, the binary and -benchmark included
    report: str  #: its whole FFREPORT, at CENSUS_LEVEL


@dataclass(frozen=True)
class Census:
    video: Path
    wall_s: float  #: the render call, start to end (in this process)
    duration_s: float  #: the video's, as the render reports it
    spawned: tuple[Spawned, ...]  #: in the order they started
    notes: Mapping[str, Any]  #: what the sound stage measured (`loudness.analysis_seconds`)
    smart: Mapping[str, Any]  #: the smart-render decision, as the job metadata reports it
    timings: Mapping[str, float]  #: seconds per stage (staging, probing, …, encoding)


def render_census(spec: Path, video: Path) -> Census:
    """`spec` rendered in this process as `vidsvc render` renders it, with every FFmpeg the
    render spawns recorded: why it ran, its argv and its FFREPORT raised from info to verbose.
    Nothing else changes: the same commands, the same -loglevel on stderr; the report file is
    FFmpeg's second log, so only its closing per-input statistics are new."""
    spawned: list[dict[str, Any]] = []
    reports: dict[str, list[str]] = {}
    targets: dict[str, tuple[Any, str]] = {
        "spawn": (media_ffmpeg, "spawn"),  # run_ffmpeg's: the analysis, sound and main passes
        "part": (media_feed, "spawn"),  # the parts'
        "collect": (media_ffreport, "collect"),  # each one's report, read before it is removed
        "measure": (sound, "run_ffmpeg"),  # the loudness analysis pass's run
    }
    real: dict[str, Any] = {key: getattr(module, name) for key, (module, name) in targets.items()}

    def verbose(env: dict[str, str] | None) -> tuple[dict[str, str], str]:
        env = dict(env or {})
        given = env.get("FFREPORT", f"file={REPORT_FILE}:level=32")
        env["FFREPORT"] = re.sub(r"level=\d+", f"level={CENSUS_LEVEL}", given)
        return env, re.sub(r"^file=([^:]*).*$", r"\1", given)

    def recording(part: bool) -> Any:
        async def spawn(argv: Any, cwd: Any, limits: Any = None, extra_env: Any = None,
                        stdout: Any = None) -> Any:  # fmt: skip
            env, file = verbose(extra_env)
            parts = sum(1 for s in spawned if s["role"].startswith("part "))
            role = (f"part {parts + 1}" if part else _ROLE.get()
                    or ("sound pass" if argv[-1] == SOUND else "main"))  # fmt: skip
            spawned.append({"role": role, "argv": tuple(argv), "file": file})
            return await real["part" if part else "spawn"](argv, cwd, limits, env, stdout)

        return spawn

    def collect_kept(cwd: Path, name: str = REPORT_FILE) -> Usage | None:
        try:
            reports.setdefault(name, []).append((cwd / name).read_text(errors="replace"))
        except OSError:
            reports.setdefault(name, []).append("")
        usage: Usage | None = real["collect"](cwd, name)
        return usage

    async def measure_run(*args: Any, **kwargs: Any) -> Any:
        token = _ROLE.set("loudness analysis")
        try:
            return await real["measure"](*args, **kwargs)
        finally:
            _ROLE.reset(token)

    async def rendered() -> Census:
        comp = load_composition(spec)
        config = cli_settings(os.environ)
        started = time.monotonic()
        result = await compositions.render(
            comp, config, video_out=video, thumbnail_out=video.with_suffix(".jpg")
        )
        wall = time.monotonic() - started
        queues = {name: list(texts) for name, texts in reports.items()}
        done = tuple(
            Spawned(s["role"], s["argv"], (queues.get(s["file"]) or [""]).pop(0)) for s in spawned
        )
        return Census(result.video, wall, result.duration_ms / 1000, done, dict(result.notes),
                      dict(result.smart), {str(getattr(k, "value", k)): v
                                 for k, v in result.timings.items()})  # fmt: skip

    patched = {"spawn": recording(part=False), "part": recording(part=True),
               "collect": collect_kept, "measure": measure_run}  # fmt: skip
    for key, (module, name) in targets.items():
        setattr(module, name, patched[key])
    try:
        return asyncio.run(rendered())
    except (VidsvcError, ConfigError) as exc:
        raise Refused(f"vidsvc could not render {spec}: {exc}") from None
    finally:
        for key, (module, name) in targets.items():
            setattr(module, name, real[key])


# -- split renders (issue 27; bench/measures/split.py) ----------------------------------------

_SPLITS: dict[Path, Any] = {}  #: each prepared SplitJob by its workspace: measures hold paths


@dataclass(frozen=True)
class SplitPrepared:
    """A split render prepared in `work` (work/compositions/split.py `prepare_split`), as plain
    values: every command binary first, run in `work` (its text documents and fonts written)."""

    work: Path
    seconds: float  #: prepare_split's wall: stage, probe, plan, compile
    fps: int
    frames: int  #: of the whole output
    parts: tuple[tuple[int, int], ...]  #: each video part's [first, end) output frames
    video: tuple[tuple[str, ...], ...]  #: each video part's FFmpeg, one process each
    sound: tuple[str, ...]  #: the whole mix's FFmpeg
    output: Path  #: what the join writes


def split_prepare(spec: Path, work: Path, env: Mapping[str, str], sizing: Sizing) -> SplitPrepared:
    """`prepare_split` of `spec` in a fresh `work` under the environment's settings plus `env`,
    its shared files written. Refused when a part is made by parts (set RENDER_PART_CLIPS=0)."""
    config = cli_settings({**os.environ, **env})
    comp = load_composition(spec)
    started = time.perf_counter()
    try:
        job = asyncio.run(prepare_split(comp, config, work, sizing))
    except (VidsvcError, ConfigError) as exc:
        raise Refused(f"vidsvc could not split {spec}: {exc}") from None
    seconds = time.perf_counter() - started
    if any(c.feeds or c.sound or c.after for c in job.video):
        raise Refused("a part is made by parts: RENDER_PART_CLIPS=0 makes each one FFmpeg")
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for part in job.video:
        files |= part.files
        links |= part.links
    write_files(work, files)
    link_files(work, links)
    _SPLITS[work] = (job, config)
    return SplitPrepared(
        work=work,
        seconds=seconds,
        fps=job.split.fps,
        frames=job.split.frames,
        parts=tuple((p.first, p.end) for p in job.split.parts),
        video=tuple((config.ffmpeg_bin, *c.argv) for c in job.video),
        sound=(config.ffmpeg_bin, *job.sound),
        output=work / job.encoding.video_out,
    )


def split_join(work: Path) -> float:
    """`join` of the split prepared in `work` (its parts and sound rendered): wall seconds."""
    job, config = _SPLITS[work]
    started = time.perf_counter()
    asyncio.run(join_split(job.split, job.encoding, config, work))
    return time.perf_counter() - started


def split_run(work: Path, *, at_once: int) -> float:
    """`run_split` of the split prepared in `work`: its parts `at_once`, then the join; wall."""
    job, config = _SPLITS[work]
    for part in job.video:  # run_split writes the shared files and links itself
        for name in part.links:
            (work / name).unlink(missing_ok=True)
    started = time.perf_counter()
    asyncio.run(run_split(job, config, work, at_once=at_once))
    return time.perf_counter() - started
