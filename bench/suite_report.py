"""The suite's verdict: one table of every measure, its target and whether it is met.

bench/results.md holds the machine, how busy it was, the table and the measured causes
behind each number; bench/out/suite_details.md adds the per-job and per-request tables.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.api import Submitted
from bench.estimates import Group, estimate_lines, overall_mape
from bench.load import LoadResult, percentiles, slowest
from bench.machine import Machine
from bench.memory import NOISE_KIB, NOISE_SHARE, MemoryResult
from bench.moviepy_ref import CPU_LINE
from bench.policies import Policy
from bench.reference import CRF, FPS, total_seconds
from bench.report import probe_duration
from bench.service_report import ServiceRuns, load_lines, split_lines
from bench.threads import ThreadSampler, outputs_threads, x264_threads
from bench.timing import BARE, RAW, RENDER, Contender

MOVIEPY = "moviepy 2"
TARGET_RATIO, TARGET_MOVIEPY, TARGET_THROUGHPUT, TARGET_P99_MS = 1.05, 7.0, 0.95, 50.0


@dataclass
class PolicyRun:
    policy: Policy
    load: LoadResult
    sampler: ThreadSampler
    outputs: list[Path]
    warm: Submitted


@dataclass
class Results:
    machine: Machine
    args: argparse.Namespace
    contenders: list[Contender]  #: CLI, bare argv, raw
    moviepy: Contender
    load_before: str = ""
    load_after: str = ""
    service: ServiceRuns = field(default_factory=ServiceRuns)
    groups: list[Group] = field(default_factory=list)
    policies: list[PolicyRun] = field(default_factory=list)
    sequential: list[float] = field(default_factory=list)  #: raw walls, one after another
    sequential_cpu: list[float] = field(default_factory=list)
    memory: MemoryResult | None = None
    loads: list[float] = field(default_factory=list)  #: 1-min load average, sampled

    def named(self, name: str) -> Contender:
        return next(c for c in self.contenders if c.name == name)

    @property
    def raw(self) -> Contender:
        return self.named(RAW)


def _met(good: bool) -> str:
    return "yes" if good else "**no**"


def _med(values: list[float]) -> float:
    return statistics.median(values)


def render_rows(r: Results) -> list[str]:
    raw = r.raw
    raw_wall, raw_cpu = _med(raw.times), _med(raw.cpu)
    svc_wall, svc_cpu = _med(r.service.times), _med(r.service.cpu)
    ratio = svc_wall / raw_wall
    n = len(raw.times)
    rows = [
        f"| 1 | reference through the service (POST → WS `completed`) vs raw FFmpeg, wall, "
        f"median of {len(r.service.times)} | {svc_wall:.2f} s vs {raw_wall:.2f} s: "
        f"**{ratio:.3f}×** (CPU {svc_cpu / raw_cpu:.3f}×) | ≤ {TARGET_RATIO} | "
        f"{_met(ratio <= TARGET_RATIO)} |"
    ]
    for name, label, target in (
        (RENDER, "`vidsvc render` CLI vs raw FFmpeg (start-up included)", True),
        (BARE, "vidsvc's compiled FFmpeg command run bare vs raw (the graph alone)", False),
    ):
        c = r.named(name)
        wall = _med(c.times) / raw_wall
        rows.append(
            f"| 1 | {label}, median of {n} | {_med(c.times):.2f} s: {wall:.3f}× "
            f"(CPU {_med(c.cpu) / raw_cpu:.3f}×) | {f'≤ {TARGET_RATIO}' if target else '–'} "
            f"| {_met(wall <= TARGET_RATIO) if target else '–'} |"
        )
    return rows


def moviepy_rows(r: Results) -> list[str]:
    mp = r.moviepy
    if not mp.times:
        return ["| 2 | MoviePy 2 vs vidsvc | not run (--moviepy-runs 0) | ≥ 7× | – |"]
    mp_wall, svc_wall = _med(mp.times), _med(r.service.times)
    speedup = mp_wall / svc_wall
    return [
        f"| 2 | the same composition in MoviePy 2 vs through the service, wall "
        f"(MoviePy runs: {len(mp.times)}) | {mp_wall:.1f} s vs {svc_wall:.2f} s: vidsvc "
        f"**{speedup:.1f}× faster** (CPU {_med(mp.cpu):.1f} s vs {_med(r.service.cpu):.1f} s) "
        f"| ≥ {TARGET_MOVIEPY:g}× | {_met(speedup >= TARGET_MOVIEPY)} |"
    ]


def throughput(r: Results, run: PolicyRun) -> float:
    return sum(r.sequential) / run.load.wall


def _rate(r: Results, run: PolicyRun) -> str:
    achieved = len(run.load.all_latencies) / run.load.wall
    paced = r.args.poll_rate
    return f"paced at {paced:g}/s" if paced else f"back to back, {achieved:.0f}/s"


def load_rows(r: Results) -> list[str]:
    rows = []
    jobs = r.args.load_jobs
    for run in r.policies:
        ratio = throughput(r, run)
        rows.append(
            f"| 3 | {jobs} compositions at once through the service vs {jobs} sequential raw "
            f"renders, threading `{run.policy.name}` ({run.policy.describe()}) | "
            f"{sum(r.sequential):.1f} s / {run.load.wall:.1f} s = **{ratio:.3f}** | "
            f"≥ {TARGET_THROUGHPUT} | {_met(ratio >= TARGET_THROUGHPUT)} |"
        )
    for run in r.policies:
        p = percentiles(run.load.all_latencies)
        rows.append(
            f"| 4 | API GET latency during those {jobs} renders, threading "
            f"`{run.policy.name}` ({p['count']:.0f} requests, {_rate(r, run)}) | "
            f"p50 {p['p50']:.2f} ms, "
            f"**p99 {p['p99']:.1f} ms** (max {p['max']:.0f}) | p99 < {TARGET_P99_MS:g} ms | "
            f"{_met(p['p99'] < TARGET_P99_MS)} |"
        )
    return rows


def memory_rows(r: Results) -> list[str]:
    m = r.memory
    if m is None:
        return ["| 5 | service memory | not run (--memory-jobs 0) | no growth | – |"]
    labels = list(m.checkpoints)
    idle, half, end = labels
    mib = {k: v / 1024 for k, v in m.checkpoints.items()}
    return [
        f"| 5 | server VmRSS idle (after start-up + warm-up) / {half} / {end} small jobs | "
        f"{mib[idle]:.1f} / {mib[half]:.1f} / {mib[end]:.1f} MiB: "
        f"{m.growth(idle, half) / 1024:+.1f} then **{m.growth(half, end) / 1024:+.1f} MiB** "
        f"| no growth beyond noise from {half} to {end} (≤ {NOISE_KIB // 1024} MiB or "
        f"{NOISE_SHARE:.0%}) | {_met(m.within_noise(half, end))} |"
    ]


def estimator_rows(r: Results) -> list[str]:
    mape = overall_mape(r.groups)
    scored = sum(len(g.scored()) for g in r.groups)
    shown = "no job scored" if mape is None else f"MAPE **{mape:.0%}** over {scored} jobs"
    return [f"| 6 | estimator: `estimated_duration` vs real wall | {shown} | reported | – |"]


def table(r: Results) -> list[str]:
    return [
        "| # | measure | value | target | met |",
        "|---|---|---|---|---|",
        *render_rows(r),
        *moviepy_rows(r),
        *load_rows(r),
        *memory_rows(r),
        *estimator_rows(r),
    ]


def _slowest(load: LoadResult) -> str:
    return ", ".join(f"{lat * 1000:.0f} ms at +{at:.1f} s" for at, lat, _ in slowest(load, 3))


def moviepy_cpu(mp: Contender, log_dir: Path) -> str:
    """MoviePy's CPU split (its Python process vs its FFmpeg children), from its last log."""
    try:
        text = (log_dir / f"{mp.slug}.log").read_text(errors="replace")
    except OSError:
        return "unknown"
    lines = [line for line in text.splitlines() if line.startswith(CPU_LINE)]
    return lines[-1].removeprefix(CPU_LINE).strip() if lines else "unknown"


def cause_lines(r: Results) -> list[str]:
    """The measured causes behind the numbers: CPU seconds, thread counts, fixed costs."""
    raw = r.raw
    lines = ["## Measured causes", ""]
    seq_cpu = sum(r.sequential_cpu)
    raw_threads = x264_threads(raw.output)
    lines.append(
        f"- raw FFmpeg alone: median {_med(raw.times):.2f} s wall, {_med(raw.cpu):.2f} s CPU "
        f"(x264 threads, lookahead threads: {raw_threads}); {len(r.sequential)} sequential: "
        f"{sum(r.sequential):.1f} s wall, {seq_cpu:.1f} CPU-s"
    )
    for run in r.policies:
        cpu = run.load.server_cpu
        lines.append(
            f"- `{run.policy.name}`, {len(run.load.jobs)} at once: {run.load.wall:.1f} s wall; "
            f"{cpu.children:.1f} CPU-s in FFmpeg/ffprobe children ({cpu.children / seq_cpu:.3f}× "
            f"the sequential raw CPU), {cpu.own:.1f} CPU-s in the server process, "
            f"{run.load.client_cpu:.1f} CPU-s in the polling client; {run.sampler.summary()}; "
            f"x264 in the outputs (the warm-up's included): {outputs_threads(run.outputs)}"
        )
    for run in r.policies:
        on_cpu, waiting = run.load.loop_sched
        n = len(run.load.all_latencies)
        lines.append(
            f"- API latency, `{run.policy.name}`: the server's event-loop thread ran "
            f"{on_cpu:.2f} s and waited {waiting:.2f} s for a core over the "
            f"{run.load.wall:.1f} s phase ({n} requests + {len(run.load.jobs)} jobs); "
            f"slowest: {_slowest(run.load)}"
        )
    if r.moviepy.times:
        mp_out = r.moviepy.output
        lines.append(
            f"- MoviePy 2: {_med(r.moviepy.times):.1f} s wall, {_med(r.moviepy.cpu):.1f} CPU-s "
            f"(last run: {moviepy_cpu(r.moviepy, r.args.out)} CPU-s); output "
            f"{probe_duration(mp_out)} s, x264 {x264_threads(mp_out)}"
        )
    return lines


def moviepy_difference_lines() -> list[str]:
    return [
        "## What differs between the MoviePy and the vidsvc graph",
        "",
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


def estimator_detail(r: Results) -> list[str]:
    return ["## Estimator error by kind of job", "", *estimate_lines(r.groups)]


def memory_detail(r: Results) -> list[str]:
    m = r.memory
    if m is None:
        return []
    checkpoints = ", ".join(f"{k} {v} KiB" for k, v in m.checkpoints.items())
    return [
        "## Memory",
        "",
        f"- VmRSS {checkpoints}; peak (VmHWM) {m.peak_kib} KiB; {len(m.jobs)} jobs in "
        f"{m.wall:.1f} s, waves of {r.args.concurrency}",
    ]


def _loads(loads: list[float]) -> str:
    if not loads:
        return "load during the run: not sampled"
    low, mid, high = min(loads), statistics.median(loads), max(loads)
    return (
        f"1-min load average during the run ({len(loads)} samples): min {low:.1f}, median "
        f"{mid:.1f}, max {high:.1f} (the benchmark alone adds about 2-4: FFmpeg's threads)"
    )


def _spread(r: Results) -> str:
    """The same raw command's walls over the run: the noise every ratio is read against."""
    walls = [*r.raw.times, *r.sequential]
    if len(walls) < 2:
        return "raw FFmpeg ran once: no spread"
    low, high = min(walls), max(walls)
    return (
        f"noise: the raw command took {low:.2f}-{high:.2f} s over {len(walls)} runs "
        f"(max/min {high / low:.2f}; on a quiet machine runs agree within a few %)"
    )


def header(r: Results) -> list[str]:
    a = r.args
    return [
        "# Benchmark results",
        "",
        *r.machine.lines(),
        f"- load before: `{r.load_before}`",
        f"- load after: `{r.load_after}`",
        f"- {_loads(r.loads)}; {_spread(r)}",
        f"- reference: 5 clips, {total_seconds():g} s, 720p{FPS} CRF {CRF} preset {a.preset}; "
        f"service in embedded mode, MAX_CONCURRENT_JOBS={a.concurrency}, render cache and "
        "rate limit off",
        "",
    ]


def write(r: Results, summary: Path, details: Path, argv: list[str]) -> tuple[Path, Path]:
    command = shlex.join([Path(sys.executable).name, "-m", "bench.suite", *argv])
    split = split_lines(r.service, r.raw)
    body = [
        *header(r),
        *table(r),
        "",
        *cause_lines(r),
        "",
        *split,
        "",
        *estimator_detail(r),
        "",
        *memory_detail(r),
        "",
        *moviepy_difference_lines(),
        "",
        f"Command: `make bench` (`{command}`); per-job and per-request tables in "
        "bench/out/suite_details.md.",
        "",
    ]
    summary.write_text("\n".join(body))
    detail = ["# Benchmark details", ""]
    for run in r.policies:
        detail += [f"## Threading `{run.policy.name}`", "", *load_lines(run.load, r.raw), ""]
    details.write_text("\n".join(detail))
    return summary, details
