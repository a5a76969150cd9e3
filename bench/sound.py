"""What finished sound costs (issue 13): the reference render plain, with ducking, and with a
loudness target (its audio-only analysis pass included), each through `vidsvc render` in
rotating rounds on the same machine, with the output's loudness.

Run as `python -m bench.sound` (`make bench` runs it after the suite). Writes
bench/sound_results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.render import prepare
from bench.sound_audio import AudioCost, measure
from bench.timing import Contender, run_rounds

BENCH_DIR = Path(__file__).resolve().parent
TARGET_LUFS = -14.0
VARIANTS: dict[str, dict[str, object]] = {
    "plain mix": {},
    "ducking (10 dB)": {"ducking": True},
    f"loudness {TARGET_LUFS:g} LUFS": {"loudness_lufs": TARGET_LUFS},
    "ducking + loudness": {"ducking": True, "loudness_lufs": TARGET_LUFS},
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.sound", description=__doc__)
    p.add_argument("--runs", type=int, default=3, help="rounds (3)")
    p.add_argument("--preset", default="medium", help="x264 preset (medium, as the suite)")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="work dir (bench/out)")
    p.add_argument("--results", type=Path, default=BENCH_DIR / "sound_results.md")
    return p.parse_args(argv)


def loudness(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's audio, by ebur128."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-vn"]
    args += ["-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"]
    err = subprocess.run(args, capture_output=True, text=True, check=True).stderr
    summary = err[err.rindex("Summary:") :]
    i = re.search(r"I:\s*(-?[\d.]+) LUFS", summary)
    tp = re.search(r"Peak:\s*(-?[\d.]+) dBFS", summary)
    return (float(i.group(1)) if i else float("nan")), (float(tp.group(1)) if tp else float("nan"))


def contenders(out: Path, spec_path: Path) -> list[Contender]:
    base = json.loads(spec_path.read_text())
    made = []
    for k, (name, extra) in enumerate(VARIANTS.items()):
        spec = {**base, "audio": {**base["audio"], **extra}}
        path = out / f"ref_sound{k}.json"
        path.write_text(json.dumps(spec, indent=2) + "\n")
        video = out / f"out_sound{k}.mp4"
        argv = [sys.executable, "-m", "vidsvc", "render", str(path), str(video)]
        made.append(Contender(name, argv, video, out))
    return made


def audio_table(made: list[Contender], costs: dict[str, list[AudioCost]]) -> list[str]:
    plain = costs[made[0].name]
    base_cpu = statistics.median(c.mix_cpu_s for c in plain)
    lines = [
        "",
        "The audio side alone (bench/sound_audio.py: the final mix without the video, and the",
        "loudness analysis pass), medians:",
        "",
        "| variant | analysis pass s | mix alone: wall s | CPU s | CPU vs plain |",
        "|---|---|---|---|---|",
    ]
    for c in made:
        runs = costs[c.name]
        cpu = statistics.median(r.mix_cpu_s for r in runs)
        lines.append(
            f"| {c.name} | {statistics.median(r.analysis_s for r in runs):.2f} | "
            f"{statistics.median(r.mix_wall_s for r in runs):.2f} | {cpu:.2f} | "
            f"{cpu - base_cpu:+.2f} |"
        )
    return lines


def report(made: list[Contender], args: argparse.Namespace, loads: tuple[str, str]) -> str:
    plain_wall = statistics.median(made[0].times)
    plain_cpu = statistics.median(made[0].cpu)
    lines = [
        "# Finished sound: cost on the reference (30.5 s, 720p30)",
        "",
        f"`python -m bench.sound --runs {args.runs} --preset {args.preset}`; medians of "
        f"{args.runs} rotating round(s) of `vidsvc render`. Load before: {loads[0]}; "
        f"after: {loads[1]}.",
        "",
        "| variant | wall s | vs plain | CPU s | vs plain | output I (LUFS) | true peak (dBTP) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in made:
        wall, cpu = statistics.median(c.times), statistics.median(c.cpu)
        i, tp = loudness(c.output)
        lines.append(
            f"| {c.name} | {wall:.2f} | {wall - plain_wall:+.2f} | {cpu:.2f} | "
            f"{cpu - plain_cpu:+.2f} | {i:.1f} | {tp:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    spec_path = prepare(out, args.preset, force_media=False)
    made = contenders(out, spec_path)
    run_rounds(made, args.runs, out)
    costs: dict[str, list[AudioCost]] = {c.name: [] for c in made}
    for _ in range(args.runs):
        for k, c in enumerate(made):
            costs[c.name].append(measure(out / f"ref_sound{k}.json"))
            print(f"  audio only  {c.name:<24} {costs[c.name][-1]}")
    after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(made, args, (before, after)) + "\n".join(audio_table(made, costs)) + "\n"
    args.results.write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
