"""What does each x264 preset cost and save against vidsvc's default (medium, CRF 21) at the
same SSIM?

1. The reference composition (bench.harness.reference) is compiled by vidsvc
   (bench.contenders.bare) with CRF 0 and preset ultrafast, i.e. lossless, and its first
   `seconds` rendered once: the frames every contender encodes and is scored against.
2. Each contender encodes that lossless file with vidsvc's own x264 options at one preset and
   CRF; FFmpeg's ssim and psnr filters score it against the lossless frames. So every
   contender encodes exactly the frames the graph makes, without paying for the graph again.
3. medium at CRF 21 sets the target SSIM; for each preset a walk over integer CRFs
   (presets_match.next_crf) brackets it and the nearest SSIM is taken.

CPU is each encode's own `-benchmark` (user+sys), minus a decode-only pass of the lossless
file: x264's share, which the machine's other load does not blur as it does wall time. Sizes
are the MP4s (video only).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import seams
from bench.contenders.bare import VIDEO_OUT, compile_reference
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.reference import CRF, reference_spec, total_seconds
from bench.harness.timing import PassFailed, benchmarked
from bench.measures.presets_match import (
    Point,
    Score,
    nearest,
    next_crf,
    parse_scores,
    size_at_target,
    table,
)

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")
DEFAULT_PRESET = "medium"
#: Both inputs are split so one pass scores SSIM and PSNR.
SCORE_GRAPH = "[0:v]split[a][b];[1:v]split[c][d];[a][c]ssim;[b][d]psnr"


def lossless_reference(ctx: Context, seconds: float) -> tuple[str, Path]:
    """Render the reference graph losslessly for its first `seconds`: (ffmpeg, the file)."""
    out = ctx.out
    ctx.reference(DEFAULT_PRESET)  # the media and text files
    doc: dict[str, Any] = reference_spec("ultrafast")
    doc["output"] = {**doc["output"], "crf": 0}  # x264's CRF 0 at 8 bits: lossless
    spec = out / "ref_lossless.json"
    spec.write_text(json.dumps(doc, indent=2) + "\n")
    compiled = compile_reference(spec, out / "presets", "ultrafast")
    argv = compiled.argv
    at = argv.index(VIDEO_OUT)
    if argv[at - 2] != "-t":
        raise PassFailed(f"no -t before {VIDEO_OUT} in the compiled argv")
    argv = [*argv[: at - 1], f"{seconds:.3f}", *argv[at:]]
    took = benchmarked("lossless", argv, compiled.work, out)
    print(f"lossless reference: {seconds:.1f} s in {took.cpu_s:.1f} CPU s")
    return argv[0], compiled.output


class Study:
    """Encodes and scores contenders from the lossless render, in `work`."""

    def __init__(self, ffmpeg: str, lossless: Path, work: Path) -> None:
        self.ffmpeg, self.lossless, self.work = ffmpeg, lossless, work
        work.mkdir(parents=True, exist_ok=True)
        decode = [ffmpeg, "-hide_banner", "-nostdin", "-i", str(lossless), "-map", "0:v"]
        self.decode_cpu = benchmarked("decode", [*decode, "-f", "null", "-"], work, work).cpu_s

    def encode(self, preset: str, crf: int) -> tuple[Path, float]:
        """Encode the lossless file: (the MP4, x264's CPU seconds)."""
        name = f"{preset}-crf{crf}"
        out = self.work / f"{name}.mp4"
        argv = [self.ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "warning",
                "-i", str(self.lossless), "-map", "0:v", *seams.x264_options(preset, crf),
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)]  # fmt: skip
        cpu = benchmarked(name, argv, self.work, self.work).cpu_s - self.decode_cpu
        return out, round(cpu, 2)

    def point(self, preset: str, crf: int) -> Point:
        out, cpu = self.encode(preset, crf)
        point = Point(preset, crf, self.score(out), cpu, out.stat().st_size, (cpu,))
        s = point.score
        print(f"  {preset:>9}/{crf:<2} SSIM {s.ssim:.5f} ({s.ssim_db:.2f} dB) PSNR {s.psnr:.2f}"
              f"  x264 {cpu:5.1f} CPU s  {point.bytes / 1024:6.0f} KiB", flush=True)  # fmt: skip
        out.unlink()
        return point

    def again(self, point: Point, runs: int) -> Point:
        """The point with its CPU measured `runs` times in all (the median)."""
        cpus = [*point.cpu_runs]
        while len(cpus) < runs:
            out, cpu = self.encode(point.preset, point.crf)
            out.unlink()
            cpus.append(cpu)
        print(f"  {point.preset:>9}/{point.crf:<2} x264 CPU s: {cpus}", flush=True)
        return dataclasses.replace(point, cpu_s=statistics.median(cpus), cpu_runs=tuple(cpus))

    def score(self, encoded: Path) -> Score:
        argv = [self.ffmpeg, "-hide_banner", "-nostdin", "-i", str(encoded),
                "-i", str(self.lossless), "-lavfi", SCORE_GRAPH, "-f", "null", "-"]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PassFailed(f"scoring {encoded.name} failed: {done.stderr[-500:]}")
        return parse_scores(done.stderr)

    def matched(self, preset: str, target: Point) -> tuple[Point, list[Point]]:
        """The preset's CRF nearest the target's SSIM, and every point measured for it."""
        got = {target.crf: target} if preset == target.preset else {}
        goal = target.score.ssim_db
        while (crf := next_crf({c: p.score.ssim_db for c, p in got.items()}, goal)) is not None:
            got[crf] = self.point(preset, crf)
        return nearest(list(got.values()), goal), sorted(got.values(), key=lambda p: p.crf)


def section(matched: list[Point], tried: list[Point], target: Point, info: str) -> list[str]:
    goal = target.score.ssim_db
    exact = {p: size_at_target([t for t in tried if t.preset == p], goal) for p in PRESETS}
    rest = ", ".join(f"{p.preset}/{p.crf} {p.score.ssim_db:.2f} dB" for p in tried)
    return [
        info,
        "",
        *table(matched, target, exact),
        "",
        "The last column: the size at exactly the target SSIM, log-interpolated between the two"
        f" CRFs that bracket it. Every point measured (SSIM dB): {rest}.",
    ]


def run(ctx: Context, opts: Options) -> list[Section]:
    seconds = min(opts.number("seconds"), total_seconds())
    runs, out = opts.integer("runs"), ctx.out
    started, load = time.monotonic(), os.getloadavg()
    ffmpeg, lossless = lossless_reference(ctx, seconds)
    study = Study(ffmpeg, lossless, out / "presets_enc")
    print(f"target: {DEFAULT_PRESET} CRF {CRF}; decoding the lossless file:"
          f" {study.decode_cpu:.1f} CPU s (taken off every encode)")  # fmt: skip
    target = study.point(DEFAULT_PRESET, CRF)
    matched, tried = [], []
    for preset in PRESETS:
        best, points = study.matched(preset, target)
        matched.append(best)
        tried += points
    print(f"timing each matched point {runs} times:")
    matched = [study.again(point, runs) for point in matched]
    target = next(p for p in matched if p.preset == DEFAULT_PRESET)
    took = time.monotonic() - started
    info = (
        f"{os.cpu_count()} cores, 1-min load average {load[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after. The reference's first {seconds:g} s "
        f"({round(seconds * 30)} frames of 720p30) rendered losslessly, then encoded by each"
        f" contender with vidsvc's x264 options (no -threads: x264's own count); {len(tried)}"
        f" scored encodes, {took:.0f} s wall in all. Target: {DEFAULT_PRESET} CRF {CRF}. CPU:"
        " FFmpeg's own -benchmark user+sys of the encode minus decoding the lossless input"
        f" ({study.decode_cpu:.1f} s), median of {runs}; size: the MP4 (video only)."
    )
    return [Section("presets", MEASURE.question, section(matched, tried, target, info))]


MEASURE = Measure(
    name="presets",
    question="what does each x264 preset cost and save at the SSIM of medium CRF 21?",
    takes="about 3 minutes (10 s of the reference; the whole 30.5 s takes about 10)",
    quick_note="2 s of the reference, each matched point timed once: about 30 s",
    run=run,
    defaults={"seconds": 10.0, "runs": 3},
    quick={"seconds": 2.0, "runs": 1},
)
