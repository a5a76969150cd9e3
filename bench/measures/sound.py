"""What do ducking and a loudness target cost? The reference render plain, with ducking, and
with a loudness target (its audio-only analysis pass included), each through `vidsvc render`
in rotating rounds on the same machine, with the output's loudness; then the audio side
alone (the final mix without the video, and the loudness analysis pass), since x264 is ~97%
of a whole render's CPU and blurs the audio's share.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench import seams
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.timing import Contender, run_rounds

TARGET_LUFS = -14.0
VARIANTS: dict[str, dict[str, object]] = {
    "plain mix": {},
    "ducking (10 dB)": {"ducking": True},
    f"loudness {TARGET_LUFS:g} LUFS": {"loudness_lufs": TARGET_LUFS},
    "ducking + loudness": {"ducking": True, "loudness_lufs": TARGET_LUFS},
}


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


def audio_table(made: list[Contender], costs: dict[str, list[seams.AudioCost]]) -> list[str]:
    plain = costs[made[0].name]
    base_cpu = statistics.median(c.mix_cpu_s for c in plain)
    lines = [
        "",
        "The audio side alone (the final mix without the video, and the loudness analysis "
        "pass), medians:",
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


def report(made: list[Contender], runs: int, preset: str) -> list[str]:
    plain_wall = statistics.median(made[0].times)
    plain_cpu = statistics.median(made[0].cpu)
    lines = [
        f"Medians of {runs} rotating round(s) of `vidsvc render`, preset {preset}.",
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
    return lines


def run(ctx: Context, opts: Options) -> list[Section]:
    runs, preset, out = opts.integer("runs"), opts.text("preset"), ctx.out
    made = contenders(out, ctx.reference(preset))
    run_rounds(made, runs, out)
    costs: dict[str, list[seams.AudioCost]] = {c.name: [] for c in made}
    for _ in range(runs):
        for k, c in enumerate(made):
            costs[c.name].append(seams.audio_cost(out / f"ref_sound{k}.json"))
            print(f"  audio only  {c.name:<24} {costs[c.name][-1]}")
    lines = [*report(made, runs, preset), *audio_table(made, costs)]
    return [Section("sound", MEASURE.question, lines, file="sound.md")]


MEASURE = Measure(
    name="sound",
    question="what do ducking and a loudness target cost on the reference?",
    takes="about 4 minutes (3 rounds of 4 renders of 17 s, then the audio alone)",
    quick_note="1 round at preset ultrafast: about 1 minute",
    run=run,
    defaults={"runs": 3, "preset": "medium"},
    quick={"runs": 1, "preset": "ultrafast"},
)
