"""What do several shapes and formats from one job cost against separate renders?

Renditions: the reference composition (bench/harness/reference.py: 30.5 s, 720p30 CRF 21) with
`output.renditions` 16:9, 9:16 and 1:1 at 720p (1280x720, 720x1280, 720x720), one FFmpeg run
that decodes every input once and encodes three outputs, against three separate renders of the
same composition, one per shape, run one after another (their walls summed). Both through
`vidsvc render` (a fresh process each), in rotating rounds, medians. While each render runs, a
thread reads the peak resident set (VmHWM) of every FFmpeg below it from /proc, as vidsvc reads
its runs' `memory_peak_mb`. FFmpeg's own CPU comes from vidsvc's compiled commands run bare with
`-benchmark` (bench.contenders.bare: the same argv the render runs, its one FFmpeg).

The floor: what the one job could cost at best if everything but the encoders were shared.
Each shape's compiled command is run twice with `-benchmark`: as compiled (whole, W) and with
its output's encoders replaced by `-f null` (the same maps and graph: decoding, the filter
chains, the audio mix; no x264, no AAC: D). E = W − D is the shape's encode-only CPU. The floor
is (Σ E + max D) / Σ W: three encodes and one decode-and-filter (the largest shape's) against
three whole renders: what sharing can save at most, as the encoders cannot be shared. The
job's own CPU over Σ W says how near it comes (one pass of each command: a few % either way is
a tie). When the job's encoders get fewer x264 threads than a render of one shape, its command
runs once more with each encoder at the one shape's count: a what-if that tells whether the
job's wall is its encoders' threads.

Formats: a 10 s GIF (the reference's first 10 s by `output.range`, `format: gif`: 480 wide,
12 fps; a main render into a lossless intermediate, then two palette passes) with every
FFmpeg's peak; and the reference as WebM (VP9 + Opus) in the same rounds as the renditions, its
wall, size and SSIM against a near-lossless render (x264 CRF 8) of the same composition, beside
the 16:9 MP4 of the separate renders (its wall, size and SSIM), so size and time compare at
known quality.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from bench.contenders.bare import VIDEO_OUT, CompileFailed, compile_reference
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.media import probe_duration
from bench.harness.reference import CRF, FPS, reference_spec
from bench.harness.report import met
from bench.harness.threads import ffmpeg_status
from bench.harness.timing import RenderFailed, benchmarked, children_cpu, round_order
from sample_specs.media import FFMPEG, FFPROBE

#: (aspect ratio, its size at 720p): every shape the job renders, the first one output's own.
SHAPES = (("16:9", (1280, 720)), ("9:16", (720, 1280)), ("1:1", (720, 720)))
TARGET_WALL = 0.9
ONE_JOB, SEPARATE, WEBM = "one job, 3 renditions", "3 separate renders", "WebM (16:9)"
NAME_WIDTH = len(ONE_JOB)
#: How often the sampler reads the FFmpegs' VmHWM (a peak, so only the last stretch can be lost).
SAMPLE_EVERY = 0.02
_SSIM = re.compile(r"SSIM Y:[\d.]+ .*?All:([\d.]+) \(([\d.]+|inf)\)")


# -- one `vidsvc render`, with its FFmpegs' peak memory -----------------------------------------


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (children of each of its threads, then theirs)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(k) for k in children.read_text().split()]
            except (OSError, ValueError):
                continue  # exited meanwhile
            found += kids
            todo += kids
    return found


def _ffmpeg_peak_mb(pid: int) -> float | None:
    """An FFmpeg's VmHWM in MiB; None for another process (a fork not yet exec'd included)."""
    kb = ffmpeg_status(pid, "VmHWM")
    return None if kb is None else kb / 1024


@dataclass
class PeakSampler:
    """Reads the VmHWM of every FFmpeg below `pid` until stopped: each FFmpeg's peak."""

    pid: int
    peaks: dict[int, float] = field(default_factory=dict)  #: ffmpeg pid -> peak MiB
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            for child in _descendants(self.pid):
                peak = _ffmpeg_peak_mb(child)
                if peak is not None:
                    self.peaks[child] = max(self.peaks.get(child, 0.0), peak)
            self._stop.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class Run:
    wall: float  #: seconds, start to exit
    cpu: float  #: user + sys of `vidsvc render` and everything it waited for
    peaks: tuple[float, ...]  #: each FFmpeg's VmHWM (MiB), in the order first seen


def render(spec: Path, output: Path, log: Path, expect: tuple[Path, ...] = ()) -> Run:
    """`vidsvc render --quiet spec output` in a fresh process; RenderFailed when it fails or
    leaves an output (or one of `expect`) missing."""
    for path in (output, *expect):
        path.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "vidsvc", "render", "--quiet", str(spec), str(output)]
    with log.open("w") as out:
        cpu_before = children_cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=spec.parent, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
        sampler = PeakSampler(proc.pid)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        sampler.stop()
        thread.join()
        cpu = children_cpu() - cpu_before
    missing = [p for p in (output, *expect) if not p.is_file()]
    if code != 0 or missing:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RenderFailed(f"vidsvc render {spec.name} failed (exit {code}, missing "
                           f"{[p.name for p in missing]}); log {log}:\n{tail}")  # fmt: skip
    return Run(wall, cpu, tuple(sampler.peaks.values()))


# -- the compositions -----------------------------------------------------------------------


def absolute(doc: dict[str, Any], base: Path) -> dict[str, Any]:
    """The reference spec with every input a file:// URL (its paths are relative to `base`)."""
    clips = [{**c, "url": (base / c["url"]).resolve().as_uri()} for c in doc["clips"]]
    audio = dict(doc["audio"])
    for key in ("music_url", "voiceover_url"):
        audio[key] = (base / audio[key]).resolve().as_uri()
    return {**doc, "clips": clips, "audio": audio}


def documents(doc: dict[str, Any], seconds: float, gif_seconds: float) -> dict[str, Any]:
    """Every composition the measure renders, by name: the job, each shape alone, WebM, the
    near-lossless reference (CRF set later) and the GIF. `seconds` > 0 renders only the
    timeline's first seconds (a smoke run)."""
    out = dict(doc["output"])
    if seconds > 0:
        out["range"] = {"start": 0, "duration": seconds}
    webm = {k: v for k, v in out.items() if k != "preset"}
    made: dict[str, Any] = {
        "job": {**doc, "output": {**out, "renditions": [{"aspect_ratio": a} for a, _ in SHAPES]}},
        # x264's preset is refused for webm (VP9 has its own speed setting)
        "webm": {**doc, "output": {**webm, "format": "webm"}},
        "gif": {**doc, "output": {"format": "gif",
                                  "range": {"start": 0, "duration": gif_seconds}}},
    }  # fmt: skip
    for k, (aspect, _) in enumerate(SHAPES):
        made[f"shape{k}"] = {**doc, "output": {**out, "aspect_ratio": aspect}}
    return made


def numbered(path: Path, k: int) -> Path:
    """A further rendition's file beside the first: out.mp4, out1.mp4, out2.mp4."""
    return path if k == 0 else path.with_name(f"{path.stem}{k}{path.suffix}")


# -- the floor: each shape's compiled command whole and with its encoders into -f null ---------


def null_argv(argv: list[str]) -> list[str]:
    """The compiled command with its video output's encoders, options and file replaced by
    `-f null -`: the same maps and `-t` (the same graph runs), nothing encoded. Other outputs
    (the thumbnail) stay."""
    end = argv.index(VIDEO_OUT)
    start = argv.index("-map", argv.index("-filter_complex"))
    out = argv[start:end]
    maps = [a for k, a in enumerate(out) if k > 0 and out[k - 1] == "-map"]
    duration = [a for k, a in enumerate(out) if k > 0 and out[k - 1] == "-t"]
    return [
        *argv[:start],
        *(a for m in maps for a in ("-map", m)),
        *(["-t", duration[-1]] if duration else []),
        "-f", "null", "-",
        *argv[end + 1 :],
    ]  # fmt: skip


@dataclass(frozen=True)
class Pass:
    cpu: float  #: FFmpeg's own user + sys (its -benchmark)
    wall: float


def bare_pass(name: str, argv: list[str], work: Path, log_dir: Path) -> Pass:
    usage = benchmarked(name, argv, work, log_dir)
    return Pass(usage.cpu_s, usage.wall_s)


@dataclass(frozen=True)
class Floor:
    job: Pass  #: the job's compiled command (three outputs) bare
    whole: tuple[Pass, ...]  #: each shape's compiled command bare
    null: tuple[Pass, ...]  #: the same into -f null
    threads: tuple[str, ...]  #: each command's x264 -threads (job first)
    #: the job's command with each encoder at the single render's -threads (a what-if: is the
    #: job's wall its encoders' threads?), and that thread count
    rethreaded: Pass | None = None
    single_threads: str = ""

    @property
    def encode(self) -> tuple[float, ...]:
        return tuple(w.cpu - n.cpu for w, n in zip(self.whole, self.null, strict=True))

    @property
    def floor(self) -> float:
        return (sum(self.encode) + max(n.cpu for n in self.null)) / sum(w.cpu for w in self.whole)


def _threads(argv: list[str]) -> str:
    found = [argv[k + 1] for k, a in enumerate(argv[:-1]) if a == "-threads"]
    return "/".join(found) or "FFmpeg's own"


def floor(specs: dict[str, Path], work: Path, preset: str) -> Floor:
    job = compile_reference(specs["job"], work / "bare-job", preset)
    passes = [bare_pass("renditions job", job.argv, job.work, work)]
    whole, null, threads = [], [], [_threads(job.argv)]
    print(f"  bare    {ONE_JOB:<{NAME_WIDTH}} FFmpeg CPU {passes[0].cpu:6.2f} s")
    for k, (aspect, _) in enumerate(SHAPES):
        shape = compile_reference(specs[f"shape{k}"], work / f"bare-shape{k}", preset)
        threads.append(_threads(shape.argv))
        whole.append(bare_pass(f"renditions shape {k}", shape.argv, shape.work, work))
        null.append(bare_pass(f"renditions null {k}", null_argv(shape.argv), shape.work, work))
        print(f"  bare    {aspect:<{NAME_WIDTH}} FFmpeg CPU {whole[-1].cpu:6.2f} s whole, "
              f"{null[-1].cpu:6.2f} s into -f null")  # fmt: skip
    rethreaded = None
    if threads[1] != threads[0].split("/")[0] and threads[1].isdigit():
        argv = [threads[1] if k and job.argv[k - 1] == "-threads" else a
                for k, a in enumerate(job.argv)]  # fmt: skip
        rethreaded = bare_pass("renditions job rethreaded", argv, job.work, work)
        print(f"  bare    {ONE_JOB:<{NAME_WIDTH}} FFmpeg CPU {rethreaded.cpu:6.2f} s with "
              f"-threads {threads[1]} per encoder, wall {rethreaded.wall:.2f} s")  # fmt: skip
    return Floor(passes[0], tuple(whole), tuple(null), tuple(threads), rethreaded, threads[1])


# -- SSIM -------------------------------------------------------------------------------------


def ssim(distorted: Path, reference: Path, log: Path) -> tuple[float, float]:
    """(SSIM, its dB) of every frame of `distorted` against `reference`, FFmpeg's `ssim`."""
    argv = [FFMPEG, "-hide_banner", "-nostdin", "-i", str(distorted), "-i", str(reference),
            "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    log.write_text(done.stderr)
    found = _SSIM.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise RenderFailed(f"ssim of {distorted.name} failed; see {log}")
    value, db = found[-1]
    return float(value), float("inf") if db == "inf" else float(db)


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Rounds:
    job: list[Run] = field(default_factory=list)
    separate: list[list[Run]] = field(default_factory=list)  #: per round, one Run per shape
    webm: list[Run] = field(default_factory=list)


def run_rounds(specs: dict[str, Path], work: Path, runs: int, *, webm: bool) -> Rounds:
    """`runs` rotating rounds of the one job, the three separate renders and (when `webm`
    renders a WebM) the WebM render."""
    got = Rounds()
    job_out = work / "job.mp4"
    expect = tuple(numbered(job_out, k) for k in range(1, len(SHAPES)))

    def one_job() -> float:
        got.job.append(render(specs["job"], job_out, work / "job.log", expect))
        return got.job[-1].wall

    def separate() -> float:
        made = [render(specs[f"shape{k}"], work / f"shape{k}.mp4", work / f"shape{k}.log")
                for k in range(len(SHAPES))]  # fmt: skip
        got.separate.append(made)
        return sum(r.wall for r in made)

    def in_webm() -> float:
        got.webm.append(render(specs["webm"], work / "out.webm", work / "webm.log"))
        return got.webm[-1].wall

    contenders = [(ONE_JOB, one_job), (SEPARATE, separate)] + [(WEBM, in_webm)] * webm
    for round_no in range(runs):
        for name, go in round_order(contenders, round_no):
            wall = go()
            print(f"  run {round_no + 1}/{runs}  {name:<{NAME_WIDTH}} {wall:7.2f} s  "
                  f"(load {os.getloadavg()[0]:.1f})")  # fmt: skip
    return got


def container(path: Path) -> str:
    """ffprobe's `format_name/codec_name` of a file's first stream (e.g. `gif/gif`)."""
    argv = [FFPROBE, "-v", "error", "-show_entries", "format=format_name:stream=codec_name",
            "-of", "default=nw=1:nk=1", str(path)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    found = done.stdout.split()
    return f"{found[-1]}/{found[0]}" if len(found) >= 2 else "unreadable"


#: What each format's output must be, by ffprobe (format_name/first codec), to count as one.
EXPECTED = {"gif": "gif/gif", "webm": "matroska,webm/vp9"}


def wired(name: str, spec: Path, output: Path, work: Path) -> str | None:
    """None when `output.format: name` renders as that format; else what came out instead
    (the formats were being wired while this measure was written)."""
    try:
        render(spec, output, work / f"probe-{name}.log")
    except RenderFailed as exc:
        return f"the render failed ({str(exc).splitlines()[0]})"
    made = container(output)
    return None if made == EXPECTED[name] else f"it wrote {made}, not {EXPECTED[name]}"


@dataclass
class Formats:
    gif: list[Run] = field(default_factory=list)
    gif_missing: str | None = None  #: why there is no GIF to measure
    webm_missing: str | None = None
    near: Run | None = None  #: the near-lossless render (x264 CRF reference_crf)
    quality: dict[str, tuple[float, float]] = field(default_factory=dict)  #: SSIM, dB


def run(ctx: Context, opts: Options) -> list[Section]:
    runs, preset = opts.integer("runs"), opts.text("preset")
    seconds, gif_seconds = opts.number("seconds"), opts.number("gif_seconds")
    ref_crf = opts.integer("reference_crf")
    spec = ctx.reference(preset)
    work = ctx.out / "renditions"
    work.mkdir(parents=True, exist_ok=True)
    doc = absolute(reference_spec(preset), spec.parent)
    docs = documents(doc, seconds, gif_seconds)
    first = docs["shape0"]
    docs["near_lossless"] = {**first, "output": {**first["output"], "crf": ref_crf}}
    webm = docs["webm"]
    docs["webm_probe"] = {
        **webm,
        "output": {**webm["output"], "range": {"start": 0, "duration": 1}},
    }
    specs: dict[str, Path] = {}
    for name, made in docs.items():
        specs[name] = work / f"{name}.json"
        specs[name].write_text(json.dumps(made, indent=1) + "\n")
    # The probes are the run's first renders (cold caches): not counted.
    fmt = Formats(
        gif_missing=wired("gif", specs["gif"], work / "probe.gif", work),
        webm_missing=wired("webm", specs["webm_probe"], work / "probe.webm", work),
    )
    for name, why in (("GIF", fmt.gif_missing), ("WebM", fmt.webm_missing)):
        print(f"  {name}: " + ("renders" if why is None else f"not measured: {why}"))
    print(f"renditions: {runs} round(s), preset {preset}")
    got = run_rounds(specs, work, runs, webm=fmt.webm_missing is None)
    print("renditions: FFmpeg's own CPU, bare, whole and into -f null")
    try:
        bare: Floor | None = floor(specs, work, preset)
    except CompileFailed as exc:
        print(f"  the bare commands did not compile: {exc}")
        bare = None
    while fmt.gif_missing is None and len(fmt.gif) < runs:
        fmt.gif.append(render(specs["gif"], work / "out.gif", work / "gif.log"))
        print(f"  GIF {len(fmt.gif)}/{runs}  {fmt.gif[-1].wall:.2f} s, FFmpeg peaks "
              f"{', '.join(f'{p:.0f}' for p in fmt.gif[-1].peaks)} MiB")  # fmt: skip
    if fmt.webm_missing is None:
        print("renditions: the near-lossless reference and SSIM")
        fmt.near = render(specs["near_lossless"], work / "near_lossless.mp4", work / "near.log")
        for key, made in (("mp4", work / "shape0.mp4"), ("webm", work / "out.webm")):
            fmt.quality[key] = ssim(made, work / "near_lossless.mp4", work / f"ssim-{key}.log")
    lines, missed = report(opts, work, got, bare, fmt)
    return [Section("renditions", MEASURE.question, lines, missed=missed)]


# -- the report -------------------------------------------------------------------------------


def _walls(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def report(
    opts: Options,
    work: Path,
    got: Rounds,
    bare: Floor | None,
    fmt: Formats,
) -> tuple[list[str], tuple[str, ...]]:
    preset, seconds = opts.text("preset"), opts.number("seconds")
    ref_crf = opts.integer("reference_crf")
    job_walls = [r.wall for r in got.job]
    sep_walls = [sum(r.wall for r in rnd) for rnd in got.separate]
    ratio = median(job_walls) / median(sep_walls)
    job_peak = median([max(r.peaks, default=0.0) for r in got.job])
    sep_peak = median(
        [max((p for r in rnd for p in r.peaks), default=0.0) for rnd in got.separate]
    )
    ffmpegs = {len(r.peaks) for r in got.job} | {len(r.peaks) for rnd in got.separate for r in rnd}
    sizes = " + ".join(f"{w}x{h}" for _, (w, h) in SHAPES)
    timeline = f"its first {seconds:g} s" if seconds > 0 else "30.5 s"
    missed = [f"one job / three renders, wall {ratio:.3f}"] if ratio > TARGET_WALL else []
    lines = [
        f"- the composition: the reference ({timeline}; five clips of mixed shape, four "
        f"crossfades, a title and a caption, music and a voiceover), {FPS} fps CRF {CRF} preset "
        f"{preset}, in three shapes at 720p: {sizes}",
        f"- {ONE_JOB}: `output.renditions` of the three (one FFmpeg: inputs decoded once, one "
        f"audio mix, three x264 and three AAC encoders); {SEPARATE}: the same composition with "
        "`output.aspect_ratio` set, one after another, their walls summed; both through "
        f"`vidsvc render`, {len(job_walls)} rotating round(s), medians",
        f"- noise: {SEPARATE} took {min(sep_walls):.2f}-{max(sep_walls):.2f} s, the one job "
        f"{min(job_walls):.2f}-{max(job_walls):.2f} s over {len(job_walls)} round(s)",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| {ONE_JOB} vs {SEPARATE}, wall, medians | {median(job_walls):.2f} s vs "
        f"{median(sep_walls):.2f} s: **{ratio:.3f}** | ≤ {TARGET_WALL} | "
        f"{met(ratio <= TARGET_WALL)} |",
    ]
    if bare is not None:
        whole = sum(w.cpu for w in bare.whole)
        lines += [
            f"| FFmpeg's own CPU (bare compiled commands, `-benchmark`): the job vs the three "
            f"summed | {bare.job.cpu:.2f} s vs {whole:.2f} s: **{bare.job.cpu / whole:.3f}** "
            "| – | – |",
            f"| the floor: (Σ encode-only + max decode-and-filter) / Σ whole | "
            f"**{bare.floor:.3f}** | – | – |",
        ]
    lines += [
        f"| CPU of `vidsvc render` and its children (Python, ffprobe, FFmpeg), medians | "
        f"{median([r.cpu for r in got.job]):.2f} s vs "
        f"{median([sum(r.cpu for r in rnd) for rnd in got.separate]):.2f} s | – | – |",
        f"| peak RSS of the FFmpeg (VmHWM), median over rounds: the job vs the largest of the "
        f"three | {job_peak:.0f} MiB vs {sep_peak:.0f} MiB: {job_peak / sep_peak:.2f}× | – | – |",
        "",
        *runs_table(got),
        "",
        f"FFmpegs per render seen by the sampler: {', '.join(str(n) for n in sorted(ffmpegs))} "
        "(1: the render is the one FFmpeg the bare commands repeat). Peak RSS is each FFmpeg's "
        f"VmHWM read from /proc every {SAMPLE_EVERY * 1000:.0f} ms while it runs (what vidsvc "
        "reads for a run's `memory_peak_mb`); CPU in this table counts the Python around it.",
    ]
    if bare is not None:
        lines += ["", *floor_lines(bare)]
    lines += ["", *format_lines(work, got, fmt, ref_crf)]
    return lines, tuple(missed)


def runs_table(got: Rounds) -> list[str]:
    lines = [
        "| contender | wall per round (s) | median wall (s) | median CPU (s) | FFmpeg peak "
        "RSS per round (MiB) |",
        "|---|---|---|---|---|",
        f"| {ONE_JOB} | {_walls([r.wall for r in got.job])} | "
        f"{median([r.wall for r in got.job]):.2f} | {median([r.cpu for r in got.job]):.2f} | "
        f"{', '.join(f'{max(r.peaks, default=0):.0f}' for r in got.job)} |",
    ]
    for k, (aspect, (w, h)) in enumerate(SHAPES):
        walls = [rnd[k].wall for rnd in got.separate]
        lines.append(
            f"| separate {aspect} ({w}x{h}) | {_walls(walls)} | {median(walls):.2f} | "
            f"{median([rnd[k].cpu for rnd in got.separate]):.2f} | "
            f"{', '.join(f'{max(rnd[k].peaks, default=0):.0f}' for rnd in got.separate)} |"
        )
    walls = [sum(r.wall for r in rnd) for rnd in got.separate]
    lines.append(
        f"| {SEPARATE}, summed | {_walls(walls)} | {median(walls):.2f} | "
        f"{median([sum(r.cpu for r in rnd) for rnd in got.separate]):.2f} | – |"
    )
    return lines


def floor_lines(bare: Floor) -> list[str]:
    lines = [
        "### Where the CPU goes: the floor",
        "",
        "Each shape's compiled command (bench.contenders.bare: vidsvc's argv, no Python "
        "around it) run with `-benchmark`, as compiled (whole, W) and with its output's "
        "encoders, options and file replaced by `-f null -` (the same `-map`s and `-t`: the "
        "same graph runs, nothing is encoded: decode-and-filter, D); encode-only E = W − D "
        "(x264 and AAC). The floor is (Σ E + max D) / Σ W: three encodes and one "
        "decode-and-filter against three renders: what sharing can save at most, as the "
        "encoders cannot be shared (it takes even each shape's own scaling and text as shared).",
        "",
        "| command | x264 threads | whole CPU (s) | into -f null (s) | encode-only (s) | "
        "encode share | wall (s) | cores busy (CPU / wall) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {ONE_JOB} | {bare.threads[0]} | {bare.job.cpu:.2f} | – | – | – | "
        f"{bare.job.wall:.2f} | {bare.job.cpu / bare.job.wall:.2f} |",
    ]
    if (again := bare.rethreaded) is not None:
        lines.append(
            f"| the same job, each encoder at -threads {bare.single_threads} (a what-if, not what "
            f"vidsvc runs) | {'/'.join([bare.single_threads] * len(SHAPES))} | "
            f"{again.cpu:.2f} | – | – | – | {again.wall:.2f} | {again.cpu / again.wall:.2f} |"
        )
    for k, (aspect, _) in enumerate(SHAPES):
        w, n, e = bare.whole[k], bare.null[k], bare.encode[k]
        lines.append(
            f"| {aspect} alone | {bare.threads[k + 1]} | {w.cpu:.2f} | {n.cpu:.2f} | {e:.2f} | "
            f"{e / w.cpu:.1%} | {w.wall:.2f} | {w.cpu / w.wall:.2f} |"
        )
    whole = sum(w.cpu for w in bare.whole)
    lines += [
        f"| the three, summed | – | {whole:.2f} | {sum(n.cpu for n in bare.null):.2f} | "
        f"{sum(bare.encode):.2f} | {sum(bare.encode) / whole:.1%} | "
        f"{sum(w.wall for w in bare.whole):.2f} | "
        f"{whole / sum(w.wall for w in bare.whole):.2f} |",
        "",
        f"- floor = ({sum(bare.encode):.2f} + {max(n.cpu for n in bare.null):.2f}) / "
        f"{whole:.2f} = **{bare.floor:.3f}**; the job's own CPU is "
        f"{bare.job.cpu / whole:.3f} of the three: "
        f"{abs(bare.job.cpu - bare.floor * whole):.2f} s "
        f"{'over' if bare.job.cpu >= bare.floor * whole else 'under'} the floor (one pass of "
        "each command: read a few % either way as a tie)",
    ]
    return lines


def format_lines(work: Path, got: Rounds, fmt: Formats, ref_crf: int) -> list[str]:
    lines = ["### Formats", ""]
    if fmt.gif:
        gifs = fmt.gif
        peaks = [max(r.peaks, default=0.0) for r in gifs]
        gif = work / "out.gif"
        duration = probe_duration(gif)
        shown = "?" if duration is None else f"{duration:.2f}"
        lines += [
            "| GIF (the reference's first seconds by `output.range`, `format: gif`: 480 wide, "
            "12 fps) | value |",
            "|---|---|",
            f"| output | {shown} s, {_mib(gif):.2f} MiB ({container(gif)}) |",
            f"| wall per run (s); median | {_walls([r.wall for r in gifs])}; "
            f"**{median([r.wall for r in gifs]):.2f}** |",
            f"| CPU of `vidsvc render` and its children, median | "
            f"{median([r.cpu for r in gifs]):.2f} s |",
            f"| FFmpegs per render; each one's peak RSS (MiB), in order, last run | "
            f"{len(gifs[-1].peaks)}: {', '.join(f'{p:.0f}' for p in gifs[-1].peaks)} |",
            f"| peak RSS: the largest FFmpeg's, max over runs | **{max(peaks):.0f} MiB** |",
            "",
        ]
    else:
        lines += [f"- GIF: not measured: `format: gif` did not render a GIF ({fmt.gif_missing})",
                  ""]  # fmt: skip
    if fmt.webm_missing is not None or fmt.near is None:
        return [*lines, f"- WebM: not measured: `format: webm` did not render a WebM "
                        f"({fmt.webm_missing})"]  # fmt: skip
    mp4_walls = [rnd[0].wall for rnd in got.separate]
    webm_walls = [r.wall for r in got.webm]
    mp4, webm = work / "shape0.mp4", work / "out.webm"
    lines += [
        "WebM (VP9 + Opus) against MP4 (x264 + AAC) of the reference at 16:9 (the MP4 is the "
        "separate 16:9 render of the rounds; the WebM render ran in the same rounds): SSIM of "
        f"every frame against a near-lossless render (x264 CRF {ref_crf}, {fmt.near.wall:.1f} s, "
        f"{_mib(work / 'near_lossless.mp4'):.1f} MiB) of the same composition.",
        "",
        "| output | wall per round (s) | median wall (s) | median CPU (s) | peak RSS (MiB) "
        f"| size (MiB) | SSIM (dB) vs CRF {ref_crf} |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, walls, made, path in (
        ("MP4", mp4_walls, [rnd[0] for rnd in got.separate], mp4),
        ("WebM", webm_walls, got.webm, webm),
    ):
        value, db = fmt.quality[name.lower()]
        lines.append(
            f"| {name} ({container(path)}) | {_walls(walls)} | {median(walls):.2f} | "
            f"{median([r.cpu for r in made]):.2f} | "
            f"{median([max(r.peaks, default=0.0) for r in made]):.0f} | {_mib(path):.2f} | "
            f"{value:.4f} ({db:.2f}) |"
        )
    gain = fmt.quality["webm"][1] - fmt.quality["mp4"][1]
    return [
        *lines,
        "",
        f"- WebM / MP4: wall {median(webm_walls) / median(mp4_walls):.2f}×, size "
        f"{_mib(webm) / _mib(mp4):.2f}×, SSIM {gain:+.2f} dB",
    ]


MEASURE = Measure(
    name="renditions",
    question="what do several shapes and formats from one job cost against separate renders?",
    takes="about 8 minutes (3 rounds of the reference as one job of three shapes, as three "
    "renders and as WebM; eight bare FFmpeg passes; three 10 s GIFs, a CRF 8 render, two SSIMs)",
    quick_note="the reference's first 6 s at ultrafast, 1 round, 3 s GIFs: about 40 s",
    run=run,
    defaults={
        "runs": 3,
        "preset": "medium",
        "seconds": 0.0,
        "gif_seconds": 10.0,
        "reference_crf": 8,
    },
    quick={"runs": 1, "preset": "ultrafast", "seconds": 6.0, "gif_seconds": 3.0},
)
