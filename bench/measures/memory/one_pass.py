"""Where one render's FFmpeg pass goes: peak memory against the hand-written command, and the
encode against decode+filter.

Each FFmpeg run measures itself with `-benchmark` (its own getrusage at exit: user+sys CPU
seconds, wall, maxrss), read from an FFREPORT file, so the shared machine's other work does
not blur the numbers the way RUSAGE_CHILDREN would. Contenders, each on the reference:
- raw: the hand-written command (bench.contenders.raw);
- compiled: vidsvc's compiled argv (bench.contenders.bare), thumbnail output included;
- compiled, -f null: the same graph with the MP4 output replaced by `-f null -` (no x264,
  no AAC): the decode+filter share of the pass. compiled minus this is the encode's share.
The memory goal is compiled <= 1.1x raw (MEMORY_GOAL).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import seams
from bench.contenders.bare import VIDEO_OUT, compile_reference
from bench.contenders.raw import font_file, raw_command
from bench.harness.measure import Context, Options
from bench.harness.timing import PassFailed, benchmarked

MEMORY_GOAL = 1.1


@dataclass(frozen=True)
class Measured:
    name: str
    usage: seams.Usage


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


def table(rows: list[Measured]) -> tuple[list[str], bool]:
    """The three runs side by side, the ratios and the split; and whether the goal is met."""
    raw, compiled, null = (m.usage for m in rows)
    assert raw.memory_peak_mb and compiled.memory_peak_mb and null.memory_peak_mb
    lines = ["| run | peak RSS MiB | CPU s | wall s |", "|---|---|---|---|"]
    for m in rows:
        u = m.usage
        lines.append(f"| {m.name} | {u.memory_peak_mb:.0f} | {u.cpu_s:.1f} | {u.wall_s:.1f} |")
    ratio = compiled.memory_peak_mb / raw.memory_peak_mb
    encode_cpu = compiled.cpu_s - null.cpu_s
    lines += [
        "",
        f"- peak RSS compiled/raw: {ratio:.2f}x (goal <= {MEMORY_GOAL}x: "
        f"{'ok' if ratio <= MEMORY_GOAL else 'OVER'}); CPU compiled/raw: "
        f"{compiled.cpu_s / raw.cpu_s:.2f}x",
        f"- split of the compiled pass: decode+filter {null.cpu_s:.1f} CPU s"
        f" ({null.cpu_s / compiled.cpu_s:.0%}), encode {encode_cpu:.1f} CPU s"
        f" ({encode_cpu / compiled.cpu_s:.0%}); encode's memory"
        f" {compiled.memory_peak_mb - null.memory_peak_mb:.0f} MiB",
    ]
    return lines, ratio <= MEMORY_GOAL


def measure(ctx: Context, opts: Options) -> tuple[list[str], tuple[str, ...]]:
    """One pass of the reference three ways: the subsection's lines, and a missed goal."""
    preset, out = opts.text("preset"), ctx.out
    print(f"  one pass of the reference, preset {preset}")
    spec = ctx.reference(preset)
    compiled = compile_reference(spec, out / "bare", preset)
    raw = raw_command(out / "out_raw.mp4", preset, font_file())
    null = null_video_output(compiled.argv)
    rows = [
        Measured("raw", benchmarked("raw", raw, out, out)),
        Measured("compiled", benchmarked("compiled", compiled.argv, compiled.work, out)),
        Measured("compiled, -f null", benchmarked("compiled null", null, compiled.work, out)),
    ]
    lines, met = table(rows)
    head = [f"### One pass of the reference (preset {preset}), FFmpeg's own -benchmark", ""]
    return head + lines, () if met else ("one pass: compiled/raw peak RSS over the goal",)
