"""How much faster is vidsvc than the same composition written with MoviePy 2?

The reference composition in MoviePy's own API (bench.contenders.moviepy_ref), run as a
subprocess like every other contender (its Python start-up, imports and FFmpeg children
count), at overhead's preset, against overhead's service renders of the same run (so it
needs overhead). MoviePy is the `bench` extra (`pip install -e '.[bench]'`, which `make bench`
does); the target is vidsvc >= 7x faster in wall time.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
from pathlib import Path

from bench.contenders.moviepy_ref import CPU_LINE
from bench.contenders.raw import font_file
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.media import probe_duration
from bench.harness.reference import CRF
from bench.harness.threads import x264_threads
from bench.harness.timing import Contender, RenderFailed, timed

ROOT = Path(__file__).resolve().parents[2]
MOVIEPY = "moviepy 2"
TARGET_SPEEDUP = 7.0


def run(ctx: Context, opts: Options) -> list[Section]:
    if importlib.util.find_spec("moviepy") is None:
        raise RenderFailed("MoviePy is not installed: pip install -e '.[bench]' (make bench)")
    base = ctx.need_baseline()
    out = ctx.out / "out_moviepy.mp4"
    argv = [sys.executable, "-m", "bench.contenders.moviepy_ref", str(ctx.out / "media"),
            str(out), "--preset", base.preset, "--font", font_file()]  # fmt: skip
    mp = Contender(MOVIEPY, argv, out, ROOT)
    runs = opts.integer("runs")
    for i in range(runs):
        wall, cpu = timed(mp, ctx.out)
        print(f"  run {i + 1}/{runs}  {MOVIEPY} {wall:7.2f} s  (cpu {cpu:6.2f} s)")
    mp_wall, svc_wall = statistics.median(mp.times), statistics.median(base.service.times)
    speedup = mp_wall / svc_wall
    lines = [
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| the same composition in MoviePy 2 vs through the service, wall (MoviePy runs: "
        f"{runs}) | {mp_wall:.1f} s vs {svc_wall:.2f} s: vidsvc **{speedup:.1f}× faster** (CPU "
        f"{statistics.median(mp.cpu):.1f} s vs {statistics.median(base.service.cpu):.1f} s) | "
        f"≥ {TARGET_SPEEDUP:g}× | {'yes' if speedup >= TARGET_SPEEDUP else '**no**'} |",
        "",
        f"- MoviePy 2: {mp_wall:.1f} s wall, {statistics.median(mp.cpu):.1f} CPU-s (last run: "
        f"{cpu_split(mp, ctx.out)} CPU-s); output {probe_duration(out)} s, x264 "
        f"{x264_threads(out)}",
        "",
        "### What differs between the MoviePy and the vidsvc graph",
        "",
        *differences(),
    ]
    missed = () if speedup >= TARGET_SPEEDUP else (f"MoviePy/service {speedup:.1f}x",)
    return [Section("moviepy", MEASURE.question, lines, missed=missed)]


def cpu_split(mp: Contender, log_dir: Path) -> str:
    """MoviePy's CPU split (its Python process vs its FFmpeg children), from its last log."""
    try:
        text = (log_dir / f"{mp.slug}.log").read_text(errors="replace")
    except OSError:
        return "unknown"
    lines = [line for line in text.splitlines() if line.startswith(CPU_LINE)]
    return lines[-1].removeprefix(CPU_LINE).strip() if lines else "unknown"


def differences() -> list[str]:
    return [
        "Same inputs, trims, 1280x720 letterboxing, 0.5 s dissolves, text, music (0.6, 2 s "
        "fade-out), voiceover (+1 s), 30 fps, libx264 same preset CRF "
        f"{CRF} yuv420p, AAC 192k 48 kHz, the same system FFmpeg. MoviePy cannot express: "
        "drawtext's shadow (a second black TextClip at 70 % opacity, 3 px off); the caption "
        "box (TextClip's own translucent background with a 12 px margin); the limiter after "
        "the mix (MoviePy sums and clips); the crossfade is an alpha fade of the incoming clip "
        "over the outgoing one (xfade=fade is the same blend), audio crossfades are a linear "
        "fade-out/fade-in pair (acrossfade's default curves). MoviePy decodes every source to "
        "RGB24 through its own FFmpeg pipe, resizes with Pillow, composites in numpy, pipes "
        "raw RGB to a second FFmpeg, and renders the audio to a file first; it writes no "
        "thumbnail (vidsvc's service also writes one, in the same pass).",
    ]


MEASURE = Measure(
    name="moviepy",
    question="how much faster is vidsvc than the same composition in MoviePy 2?",
    takes="about 1 minute after overhead (one MoviePy render of the reference)",
    quick_note="at overhead's quick preset: still about 70 s (MoviePy's own Python compositing "
    "does not shrink with the preset), plus overhead's",
    run=run,
    defaults={"runs": 1},
    needs=("overhead",),
)
