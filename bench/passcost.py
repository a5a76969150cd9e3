"""Where one render's FFmpeg pass goes: peak memory and the encode vs decode+filter split.

Run as `python -m bench.passcost` (part of `make bench`; issue 16's "Memory" and "Known
pitfalls"). Each FFmpeg run measures itself with `-benchmark` (its own getrusage at exit:
user+sys CPU seconds, wall, maxrss), read from an FFREPORT file (vidsvc.media.ffreport),
so the shared machine's other work does not blur the numbers the way RUSAGE_CHILDREN would.

Contenders, each on the reference composition (bench.reference):
- raw: the hand-written command (bench.raw);
- compiled: vidsvc's compiled argv (bench.bare), thumbnail output included;
- compiled, -f null: the same graph with the MP4 output replaced by `-f null -` (no x264,
  no AAC): the decode+filter share of the pass. compiled minus this is the encode's share.

The memory goal is compiled <= 1.1x raw (MEMORY_GOAL).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.bare import VIDEO_OUT, compile_reference
from bench.raw import font_file, raw_command
from bench.render import prepare
from vidsvc.media.ffreport import BENCHMARK_ARGS, REPORT_ENV, REPORT_FILE, Usage, collect

BENCH_DIR = Path(__file__).resolve().parent
MEMORY_GOAL = 1.1


@dataclass(frozen=True)
class Measured:
    name: str
    usage: Usage


class PassFailed(RuntimeError):
    pass


def with_benchmark(argv: list[str]) -> list[str]:
    """`-benchmark` is a global option: it goes right after the binary."""
    return [argv[0], *BENCHMARK_ARGS, *argv[1:]]


def null_video_output(argv: list[str]) -> list[str]:
    """The compiled argv with its MP4 output (maps, encoders, muxer flags, file) replaced by
    the same maps into `-f null -`: the graph still runs in full, nothing is encoded. The
    thumbnail output after it is kept, so only the encode differs."""
    end = argv.index(VIDEO_OUT)
    start = argv.index("-map")
    maps = argv[start : start + 4]  # -map [video] -map [audio]
    if maps[0::2] != ["-map", "-map"]:
        raise PassFailed(f"unexpected output section: {maps}")
    return [*argv[:start], *maps, "-f", "null", "-", *argv[end + 1 :]]


def measure(name: str, argv: list[str], cwd: Path, log_dir: Path) -> Measured:
    (cwd / REPORT_FILE).unlink(missing_ok=True)
    log = log_dir / f"passcost-{name.replace(' ', '_').replace(',', '')}.log"
    with log.open("w") as out:
        done = subprocess.run(
            with_benchmark(argv),
            cwd=cwd,
            env={**os.environ, **REPORT_ENV},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    usage = collect(cwd)
    if done.returncode != 0 or usage is None or usage.memory_peak_mb is None:
        raise PassFailed(f"{name} failed (exit {done.returncode}); see {log}")
    return Measured(name, usage)


def report(rows: list[Measured]) -> str:
    raw, compiled, null = (m.usage for m in rows)
    assert raw.memory_peak_mb and compiled.memory_peak_mb and null.memory_peak_mb
    lines = [f"{'':20} {'peak RSS MiB':>12} {'CPU s':>7} {'wall s':>7}"]
    for m in rows:
        u = m.usage
        lines.append(f"{m.name:20} {u.memory_peak_mb:12.0f} {u.cpu_s:7.1f} {u.wall_s:7.1f}")
    ratio = compiled.memory_peak_mb / raw.memory_peak_mb
    verdict = "ok" if ratio <= MEMORY_GOAL else "OVER"
    encode_cpu = compiled.cpu_s - null.cpu_s
    lines += [
        f"peak RSS compiled/raw: {ratio:.2f}x (goal <= {MEMORY_GOAL}x: {verdict});"
        f" CPU compiled/raw: {compiled.cpu_s / raw.cpu_s:.2f}x",
        f"split of the compiled pass: decode+filter {null.cpu_s:.1f} CPU s"
        f" ({null.cpu_s / compiled.cpu_s:.0%}), encode {encode_cpu:.1f} CPU s"
        f" ({encode_cpu / compiled.cpu_s:.0%}); encode's memory"
        f" {compiled.memory_peak_mb - null.memory_peak_mb:.0f} MiB",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.passcost", description=__doc__)
    p.add_argument("--preset", default="medium", help="x264 preset for all (medium)")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    args = p.parse_args(argv)
    out: Path = args.out
    spec = prepare(out, args.preset, force_media=False)
    compiled = compile_reference(spec, out / "bare", args.preset)
    raw = raw_command(out / "out_raw.mp4", args.preset, font_file())
    try:
        rows = [
            measure("raw", raw, out, out),
            measure("compiled", compiled.argv, compiled.work, out),
            measure("compiled, -f null", null_video_output(compiled.argv), compiled.work, out),
        ]
    except PassFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"one pass of the reference (preset {args.preset}), FFmpeg's own -benchmark:")
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
