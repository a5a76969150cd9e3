"""Do renders at once beat renders one after another, and does the API stay quick meanwhile?

Once per FFmpeg threading policy, on a fresh server: one warm-up render (it pays one-off
costs and trains the estimator), then the reference POSTed `jobs` times at once while one
client polls the API at `poll_rate` requests/s (5 frontends polling every 200 ms; 0: back to
back), against `jobs` sequential raw renders, run once between the policies so drift hits
both alike. Targets: sequential wall / concurrent wall >= 0.95; API p99 < 50 ms. Threads are
counted too: each FFmpeg's OS threads sampled from /proc, and x264's own record in each
output. It renders at overhead's preset and reads overhead's raw runs, so it needs overhead.

Policies are server environment: "vidsvc" (FFMPEG_THREADS=0, the default: x264 threads per
job from the cores and the renders under way) and "ffmpeg" (FFMPEG_THREADS=auto: no -threads,
x264's own choice); `--concurrency-policies NAME=VAR=VALUE,...` replaces them.
"""

from __future__ import annotations

import asyncio
import functools
import os
import statistics
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import seams
from bench.harness.api import Group, Submitted, fetch_metadata, service_once, url_spec
from bench.harness.load import TARGET_P99_MS, LoadResult, load_lines, percentiles, run_load
from bench.harness.load import slowest as slowest_requests
from bench.harness.measure import Baseline, Context, Measure, Options, Section
from bench.harness.report import met
from bench.harness.server import Server, client_timeout, serving
from bench.harness.threads import ThreadSampler, outputs_threads
from bench.harness.timing import spread, time_once

TARGET_THROUGHPUT = 0.95


@dataclass(frozen=True)
class Policy:
    name: str
    env: dict[str, str]
    note: str = ""

    def describe(self) -> str:
        shown = " ".join(f"{k}={v}" for k, v in self.env.items()) or "defaults"
        return f"{shown}{f': {self.note}' if self.note else ''}"


def parse_policy(text: str) -> Policy:
    """`name=VAR=VALUE[,VAR=VALUE...]`; the variables must parse as vidsvc settings."""
    name, sep, rest = text.partition("=")
    if not sep or not name:
        raise ValueError(f"expected NAME=VAR=VALUE[,...], got {text!r}")
    env: dict[str, str] = {}
    for pair in filter(None, rest.split(",")):
        var, eq, value = pair.partition("=")
        if not eq:
            raise ValueError(f"expected VAR=VALUE, got {pair!r}")
        env[var] = value
    seams.settings(env)  # Refused names the variable
    return Policy(name, env)


def policies(given: tuple[str, ...]) -> list[Policy]:
    """The policies asked for, or vidsvc's per-job share and FFmpeg's own choice."""
    if given:
        return [parse_policy(text) for text in given]
    return [
        Policy("vidsvc", {"FFMPEG_THREADS": "0"}, "x264 threads shared out per job"),
        Policy("ffmpeg", {"FFMPEG_THREADS": "auto"}, "no -threads: FFmpeg's own choice"),
    ]


@dataclass
class PolicyRun:
    policy: Policy
    load: LoadResult
    sampler: ThreadSampler
    outputs: list[Path]
    warm: Submitted


@dataclass
class Sequential:
    walls: list[float]
    cpu: list[float]


async def phases(
    ctx: Context, opts: Options, base: Baseline
) -> tuple[list[PolicyRun], Sequential]:
    """Each policy on a fresh server; the sequential raw renders sit in the middle."""
    spec = url_spec(base.preset, ctx.out / "media")
    chosen, jobs = policies(opts.texts("policies")), opts.integer("jobs")
    rate = opts.number("poll_rate") or None
    done: list[PolicyRun] = []
    seq = Sequential([], [])
    async with aiohttp.ClientSession(timeout=client_timeout()) as session:

        async def phase(server: Server, policy: Policy) -> PolicyRun:
            warm, _ = await service_once(session, server, spec)
            print(f"  warm-up render {warm.wall:.2f} s; now {jobs} at once")
            sampler = ThreadSampler(server.pid)
            sampling = asyncio.create_task(sampler.run())
            try:
                load = await run_load(session, server, spec, jobs, rate)
            finally:
                sampling.cancel()
            for job in load.jobs:
                await fetch_metadata(session, server.base, job)
            outputs = sorted((server.root / "data").rglob("*.mp4"))
            print(f"  {jobs} at once: {load.wall:.2f} s, {len(load.all_latencies)} API requests")
            return PolicyRun(policy, load, sampler, outputs, warm)

        for k, policy in enumerate(chosen):
            if k == len(chosen) // 2:
                await sequential(ctx, base, jobs, seq)
            print(f"  policy {policy.name}: {policy.describe()}")
            root = ctx.out / "concurrency" / f"policy_{policy.name}"
            server = Server(root, ctx.out / "media", opts.integer("server_jobs"), policy.env)
            done.append(await serving(session, server, functools.partial(phase, policy=policy)))
        if len(chosen) == 1:
            await sequential(ctx, base, jobs, seq)
    return done, seq


async def sequential(ctx: Context, base: Baseline, jobs: int, seq: Sequential) -> None:
    print(f"  {jobs} sequential raw renders")
    for _ in range(jobs):
        wall, cpu = await asyncio.to_thread(time_once, base.raw, ctx.out)
        seq.walls.append(wall)
        seq.cpu.append(cpu)
        print(f"    raw {wall:7.2f} s  (cpu {cpu:6.2f} s, load {os.getloadavg()[0]:.1f})")


def run(ctx: Context, opts: Options) -> list[Section]:
    base = ctx.need_baseline()
    done, seq = asyncio.run(phases(ctx, opts, base))
    for r in done:
        name = f"{len(r.load.jobs)} at once, {r.policy.name}"
        ctx.groups.append(Group(name, r.load.jobs, [r.warm, *r.load.jobs]))
    rows, missed = verdict_rows(done, seq, opts.number("poll_rate"))
    raw_wall = statistics.median(base.raw.times)
    lines = [
        f"- {spread([*base.raw.times, *seq.walls])}",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        *rows,
        "",
        *cause_lines(done, seq),
    ]
    for r in done:
        title = f"### Per request and per job, threading `{r.policy.name}`"
        lines += ["", title, "", *load_lines(r.load, raw_wall)]
    return [Section("concurrency", MEASURE.question, lines, missed=missed)]


def verdict_rows(
    done: list[PolicyRun], seq: Sequential, rate: float
) -> tuple[list[str], tuple[str, ...]]:
    rows, missed = [], []
    for r in done:
        jobs, ratio = len(r.load.jobs), sum(seq.walls) / r.load.wall
        if ratio < TARGET_THROUGHPUT:
            missed.append(f"throughput {r.policy.name} {ratio:.3f}")
        rows.append(
            f"| {jobs} compositions at once through the service vs {jobs} sequential raw "
            f"renders, threading `{r.policy.name}` ({r.policy.describe()}) | "
            f"{sum(seq.walls):.1f} s / {r.load.wall:.1f} s = **{ratio:.3f}** | "
            f"≥ {TARGET_THROUGHPUT} | {met(ratio >= TARGET_THROUGHPUT)} |"
        )
    for r in done:
        p = percentiles(r.load.all_latencies)
        achieved = len(r.load.all_latencies) / r.load.wall
        paced = f"paced at {rate:g}/s" if rate else f"back to back, {achieved:.0f}/s"
        if not p["p99"] < TARGET_P99_MS:
            missed.append(f"p99 {r.policy.name} {p['p99']:.1f} ms")
        rows.append(
            f"| API GET latency during those {len(r.load.jobs)} renders, threading "
            f"`{r.policy.name}` ({p['count']:.0f} requests, {paced}) | p50 {p['p50']:.2f} ms, "
            f"**p99 {p['p99']:.1f} ms** (max {p['max']:.0f}) | p99 < {TARGET_P99_MS:g} ms | "
            f"{met(p['p99'] < TARGET_P99_MS)} |"
        )
    return rows, tuple(missed)


def cause_lines(done: list[PolicyRun], seq: Sequential) -> list[str]:
    """The measured causes: CPU seconds, thread counts, the event loop's wait for a core."""
    seq_cpu = sum(seq.cpu)
    lines = [f"- {len(seq.walls)} sequential raw renders: {sum(seq.walls):.1f} s wall, "
             f"{seq_cpu:.1f} CPU-s"]  # fmt: skip
    for r in done:
        cpu = r.load.server_cpu
        lines.append(
            f"- `{r.policy.name}`, {len(r.load.jobs)} at once: {r.load.wall:.1f} s wall; "
            f"{cpu.children:.1f} CPU-s in FFmpeg/ffprobe children ({cpu.children / seq_cpu:.3f}× "
            f"the sequential raw CPU), {cpu.own:.1f} CPU-s in the server process, "
            f"{r.load.client_cpu:.1f} CPU-s in the polling client; {r.sampler.summary()}; "
            f"x264 in the outputs (the warm-up's included): {outputs_threads(r.outputs)}"
        )
    for r in done:
        on_cpu, waiting = r.load.loop_sched
        worst = slowest_requests(r.load, 3)
        shown = ", ".join(f"{lat * 1000:.0f} ms at +{at:.1f} s" for at, lat, _ in worst)
        lines.append(
            f"- API latency, `{r.policy.name}`: the server's event-loop thread ran "
            f"{on_cpu:.2f} s and waited {waiting:.2f} s for a core over the "
            f"{r.load.wall:.1f} s phase ({len(r.load.all_latencies)} requests + "
            f"{len(r.load.jobs)} jobs); slowest: {shown}"
        )
    return lines


MEASURE = Measure(
    name="concurrency",
    question="do renders at once beat renders in turn, and does the API stay quick meanwhile?",
    takes="about 5 minutes after overhead (per policy: a warm-up and 5 renders at once; "
    "5 raw renders)",
    quick_note="2 renders at once at overhead's quick preset: about 80 s, plus overhead's",
    run=run,
    defaults={"jobs": 5, "poll_rate": 25.0, "policies": (), "server_jobs": 5},
    quick={"jobs": 2},
    needs=("overhead",),
)
