"""x264 presets × CRF at matched SSIM, against vidsvc's default (preset medium, CRF 21).

Run as `python -m bench.presets` (part of `make bench`; about 2-4 minutes on 2 shared cores).

1. The reference composition (bench.reference) is compiled by vidsvc (bench.bare) with CRF 0 and
   preset ultrafast, i.e. lossless, and its first `--seconds` rendered once: the frames every
   contender encodes and is scored against.
2. Each contender encodes that lossless file with vidsvc's own x264 options
   (vidsvc.graph.compile.video_codec) at one preset and CRF; FFmpeg's ssim and psnr filters
   score it against the lossless frames. So every contender encodes exactly the frames the
   graph makes, without paying for the graph again.
3. medium at CRF 21 sets the target SSIM; for each preset a walk over integer CRFs
   (bench.presets_match.next_crf) brackets it and the nearest SSIM is taken.

CPU is each encode's own `-benchmark` (user+sys, via vidsvc.media.ffreport as in
bench.passcost), minus a decode-only pass of the lossless file: x264's share, which the
machine's other load does not blur as it does wall time. Sizes are the MP4s (video only).
Writes its section of bench/results.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bare import VIDEO_OUT, CompileFailed, compile_reference
from bench.passcost import PassFailed, measure
from bench.presets_match import (
    Point,
    Score,
    nearest,
    next_crf,
    parse_scores,
    size_at_target,
    table,
    write_section,
)
from bench.reference import CRF, reference_spec, total_seconds
from bench.render import prepare
from vidsvc.graph.compile import Encoding, video_codec

BENCH_DIR = Path(__file__).resolve().parent
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")
DEFAULT_PRESET = "medium"
HEADING = "x264 presets × CRF at matched SSIM (bench.presets)"
#: Both inputs are split so one pass scores SSIM and PSNR.
SCORE_GRAPH = "[0:v]split[a][b];[1:v]split[c][d];[a][c]ssim;[b][d]psnr"


def lossless_reference(out: Path, seconds: float) -> tuple[str, Path]:
    """Render the reference graph losslessly for its first `seconds`: (ffmpeg, the file)."""
    prepare(out, DEFAULT_PRESET, force_media=False)  # the media and text files
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
    took = measure("lossless", argv, compiled.work, out)
    print(f"lossless reference: {seconds:.1f} s in {took.usage.cpu_s:.1f} CPU s")
    return argv[0], compiled.output


class Study:
    """Encodes and scores contenders from the lossless render, in `work`."""

    def __init__(self, ffmpeg: str, lossless: Path, work: Path) -> None:
        self.ffmpeg, self.lossless, self.work = ffmpeg, lossless, work
        work.mkdir(parents=True, exist_ok=True)
        decode = [ffmpeg, "-hide_banner", "-nostdin", "-i", str(lossless), "-map", "0:v"]
        self.decode_cpu = measure("decode", [*decode, "-f", "null", "-"], work, work).usage.cpu_s

    def encode(self, preset: str, crf: int) -> tuple[Path, float]:
        """Encode the lossless file: (the MP4, x264's CPU seconds)."""
        name = f"{preset}-crf{crf}"
        out = self.work / f"{name}.mp4"
        enc = Encoding(duration_ms=0, crf=crf, preset=preset)
        argv = [self.ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "warning",
                "-i", str(self.lossless), "-map", "0:v", *video_codec(enc),
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)]  # fmt: skip
        cpu = measure(name, argv, self.work, self.work).usage.cpu_s - self.decode_cpu
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


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.presets", description=__doc__)
    p.add_argument("--seconds", type=float, default=10.0, help="slice of the reference (10)")
    p.add_argument("--runs", type=int, default=3, help="encodes timed per matched point (3)")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    p.add_argument("--results", type=Path, default=BENCH_DIR / "results.md")
    args = p.parse_args(argv)
    out: Path = args.out.resolve()
    seconds = min(args.seconds, total_seconds())
    started, load = time.monotonic(), os.getloadavg()
    try:
        ffmpeg, lossless = lossless_reference(out, seconds)
        study = Study(ffmpeg, lossless, out / "presets_enc")
        print(f"target: {DEFAULT_PRESET} CRF {CRF}; decoding the lossless file:"
              f" {study.decode_cpu:.1f} CPU s (taken off every encode)")  # fmt: skip
        target = study.point(DEFAULT_PRESET, CRF)
        matched, tried = [], []
        for preset in PRESETS:
            best, points = study.matched(preset, target)
            matched.append(best)
            tried += points
        print(f"timing each matched point {args.runs} times:")
        matched = [study.again(point, args.runs) for point in matched]
        target = next(p for p in matched if p.preset == DEFAULT_PRESET)
    except (CompileFailed, PassFailed, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    info = (
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, 1-min"
        f" load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after. The reference's"
        f" first {seconds:g} s ({round(seconds * 30)} frames of 720p30) rendered losslessly,"
        f" then encoded by each contender with vidsvc's x264 options (no -threads: x264's"
        f" own count); {len(tried)} scored encodes, {took:.0f} s wall in all. Target:"
        f" {DEFAULT_PRESET} CRF {CRF}. CPU: FFmpeg's own -benchmark user+sys of the encode"
        f" minus decoding the lossless input ({study.decode_cpu:.1f} s), median of {args.runs};"
        " size: the MP4 (video only)."
    )
    lines = section(matched, tried, target, info)
    print("\n" + "\n".join(lines))
    write_section(args.results, HEADING, lines)
    print(f"\nwrote its section of {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
