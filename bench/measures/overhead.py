"""What does vidsvc add to the one FFmpeg command an expert would type for the same video?

The reference composition (bench.harness.reference) four ways, in rounds, each round one
place further along (page cache, CPU frequency and thermal drift favour no one), medians:
- the service: POSTed to a real `vidsvc serve` (embedded mode, fresh state) and awaited on
  its WebSocket as a frontend does, from just before the POST to the `completed` message;
- the CLI, `vidsvc render` (Python start-up included);
- vidsvc's compiled FFmpeg command run bare (bench.contenders.bare): the graph alone;
- the hand-written command (bench.contenders.raw), the baseline.
The target: service/raw (and CLI/raw) <= 1.05 in median wall time. Unmeasured warm-up service
renders go first: a server's first job pays one-off costs a long-running service does not.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from statistics import median

import aiohttp

from bench.contenders.bare import compile_reference
from bench.contenders.raw import font_file, raw_command
from bench.harness.api import (
    STAGES,
    Group,
    ServiceRuns,
    breakdown,
    output_duration,
    service_once,
    url_spec,
)
from bench.harness.measure import Baseline, Context, Measure, Options, Section
from bench.harness.media import clip_names, probe_duration
from bench.harness.reference import CRF, FPS, total_seconds
from bench.harness.report import met
from bench.harness.server import Server, client_timeout, serving
from bench.harness.threads import x264_threads
from bench.harness.timing import BARE, RAW, RENDER, Contender, round_order, spread, timed

SERVICE = "vidsvc service: POST → WS completed"
TARGET_RATIO = 1.05


def contenders(ctx: Context, spec: Path, preset: str) -> tuple[list[Contender], int]:
    """CLI, bare argv and raw, and how many inputs vidsvc probes before it runs FFmpeg."""
    out = ctx.out
    raw_out = out / "out_raw.mp4"
    raw = Contender(RAW, raw_command(raw_out, preset, font_file()), raw_out, out)
    cli_out = out / "out_vidsvc.mp4"
    cli = Contender(RENDER, [sys.executable, "-m", "vidsvc", "render", str(spec), str(cli_out)],
                    cli_out, out)  # fmt: skip
    compiled = compile_reference(spec, out / "bare", preset)
    bare = Contender(BARE, compiled.argv, compiled.output, compiled.work)
    return [cli, bare, raw], compiled.inputs


async def rounds(ctx: Context, opts: Options, others: list[Contender]) -> ServiceRuns:
    """Warm-ups, then every round of the service and `others` in rotating order."""
    service = ServiceRuns()
    spec = url_spec(opts.text("preset"), ctx.out / "media")
    runs, warmup = opts.integer("runs"), opts.integer("warmup")
    by_name = {c.name: c for c in others}
    async with aiohttp.ClientSession(timeout=client_timeout()) as session:

        async def body(server: Server) -> None:
            for i in range(warmup):
                job, _ = await service_once(session, server, spec)
                service.warmups.append(job)
                print(f"  warm-up {i + 1}/{warmup}  {SERVICE:<36} {job.wall:7.2f} s")
            for round_no in range(runs):
                for name in round_order([SERVICE, *by_name], round_no):
                    if name == SERVICE:
                        job, cpu = await service_once(session, server, spec)
                        service.jobs.append(job)
                        service.cpu.append(cpu)
                        wall = job.wall
                    else:
                        wall, cpu = await asyncio.to_thread(timed, by_name[name], server.root)
                    print(f"  run {round_no + 1}/{runs}  {name:<36} {wall:7.2f} s  (cpu "
                          f"{cpu:6.2f} s, load {os.getloadavg()[0]:.1f})")  # fmt: skip

        server = Server(ctx.out / "overhead", ctx.out / "media", opts.integer("server_jobs"))
        await serving(session, server, body)
    return service


def run(ctx: Context, opts: Options) -> list[Section]:
    preset = opts.text("preset")
    spec = ctx.reference(preset)
    others, probed = contenders(ctx, spec, preset)
    service = asyncio.run(rounds(ctx, opts, others))
    by_name = {c.name: c for c in others}
    raw = by_name[RAW]
    ctx.baseline = Baseline(preset, raw, service)
    ctx.groups.append(Group("solo reference renders", service.jobs, [*service.warmups,
                                                                     *service.jobs]))  # fmt: skip
    rows, missed = verdict_rows(service, by_name)
    lines = [
        f"- reference: {len(clip_names())} clips, {total_seconds():g} s, 720p{FPS} CRF {CRF} "
        f"preset {preset}; service in embedded mode, MAX_CONCURRENT_JOBS="
        f"{opts.integer('server_jobs')}, render cache and rate limit off",
        f"- {spread(raw.times)}",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        *rows,
        "",
        *runs_table(service, others),
        "",
        *cost_lines(service, by_name, probed),
        "",
        "### Where the service's time goes (medians of the measured runs)",
        "",
        *split_lines(service, raw),
    ]
    return [Section("overhead", MEASURE.question, lines, missed=missed)]


def verdict_rows(
    service: ServiceRuns, by_name: dict[str, Contender]
) -> tuple[list[str], tuple[str, ...]]:
    raw = by_name[RAW]
    raw_wall, raw_cpu = median(raw.times), median(raw.cpu)
    ratio = median(service.times) / raw_wall
    missed = [f"service/raw {ratio:.3f}"] if ratio > TARGET_RATIO else []
    rows = [
        f"| reference through the service (POST → WS `completed`) vs raw FFmpeg, wall, median "
        f"of {len(service.times)} | {median(service.times):.2f} s vs {raw_wall:.2f} s: "
        f"**{ratio:.3f}×** (CPU {median(service.cpu) / raw_cpu:.3f}×) | ≤ {TARGET_RATIO} | "
        f"{met(ratio <= TARGET_RATIO)} |"
    ]
    for name, label, target in (
        (RENDER, "`vidsvc render` CLI vs raw FFmpeg (start-up included)", True),
        (BARE, "vidsvc's compiled FFmpeg command run bare vs raw (the graph alone)", False),
    ):
        c = by_name[name]
        wall = median(c.times) / raw_wall
        if target and wall > TARGET_RATIO:
            missed.append(f"CLI/raw {wall:.3f}")
        rows.append(
            f"| {label}, median of {len(raw.times)} | {median(c.times):.2f} s: {wall:.3f}× "
            f"(CPU {median(c.cpu) / raw_cpu:.3f}×) | {f'≤ {TARGET_RATIO}' if target else '–'} "
            f"| {met(wall <= TARGET_RATIO) if target else '–'} |"
        )
    return rows, tuple(missed)


def runs_table(service: ServiceRuns, others: list[Contender]) -> list[str]:
    """Every run's wall, the medians, and each output's length against the timeline's."""
    lines = ["| contender | wall per run (s) | median wall (s) | median cpu (s) | output (s) |",
             "|---|---|---|---|---|"]  # fmt: skip
    durations = [output_duration(job) for job in service.jobs]
    rows = [(SERVICE, service.times, service.cpu, durations)]
    rows += [(c.name, c.times, c.cpu, [probe_duration(c.output)]) for c in others]
    expected, warnings = total_seconds(), []
    for name, times, cpu, outputs in rows:
        shown = ", ".join("?" if d is None else f"{d:.3f}" for d in outputs)
        walls = ", ".join(f"{t:.2f}" for t in times)
        lines.append(f"| {name} | {walls} | {median(times):.2f} | {median(cpu):.2f} | {shown} |")
        if any(d is None or abs(d - expected) > 1.5 / FPS for d in outputs):
            warnings.append(f"- warning: {name} output is {shown} s, expected {expected:g}")
    return lines + ([""] if warnings else []) + warnings


def cost_lines(service: ServiceRuns, by_name: dict[str, Contender], probed: int) -> list[str]:
    """What the CLI costs around its own command, and where FFmpeg's CPU went."""
    render, bare, raw = by_name[RENDER], by_name[BARE], by_name[RAW]
    wall = median(render.times) - median(bare.times)
    cpu = median(render.cpu) - median(bare.cpu)
    ffmpeg_cpu = median([float(j.meta.get("cpu_seconds") or 0) for j in service.jobs])
    lines = [
        f"- fixed cost of orchestration: median(vidsvc render) − median(vidsvc argv bare) = "
        f"{wall:.2f} s wall ({wall / median(render.times):.1%} of the render), {cpu:.2f} s cpu "
        f"(Python start-up + imports, ffprobe of {probed} inputs, fc-match font lookup, input "
        "staging, progress parsing)",
        f"- FFmpeg's own CPU inside the service (metadata cpu_seconds), median: "
        f"{ffmpeg_cpu:.2f} s, {ffmpeg_cpu / median(raw.cpu):.3f}x raw; service CPU is the server "
        "process + its reaped children (/proc/<pid>/stat), raw's the FFmpeg's rusage",
        f"- raw FFmpeg alone: median {median(raw.times):.2f} s wall, {median(raw.cpu):.2f} s CPU "
        f"(x264 threads, lookahead threads: {x264_threads(raw.output)})",
    ]
    if service.warmups:
        warm = ", ".join(f"{job.wall:.2f}" for job in service.warmups)
        lines.append(f"- warm-up service render(s), not counted: {warm} s")
    return lines


def split_lines(service: ServiceRuns, raw: Contender) -> list[str]:
    """Median seconds per step of the measured service renders, raw's median beside them."""
    splits = [breakdown(job) for job in service.jobs]
    steps = ["post", "dispatch", *STAGES, "store", "notify"]
    medians = {step: median(s[step] for s in splits) for step in steps}
    ffmpeg = median(s["ffmpeg"] for s in splits)
    wall = median(service.times)
    notes = {
        "post": "POST round trip (validate, insert, 202)",
        "dispatch": "created_at → started_at: backlog wake-up and claim",
        "queued": "render set-up before staging (timings.queued)",
        "downloading": "staging the 7 file:// inputs (symlinks)",
        "validating": "ffprobe of every input, font lookup, graph compile",
        "encoding": f"the FFmpeg run; the process alone: {ffmpeg:.2f} s",
        "uploading": "moving the output out of the workspace",
        "store": "blob put of video + thumbnail, output ffprobe, final write",
        "notify": "finished_at → the client holds the completed message",
    }
    rows = [f"| {step} | {medians[step]:.3f} | {notes[step]} |" for step in steps]
    return [
        "| step | median (s) | what |",
        "|---|---|---|",
        *rows,
        f"| sum of steps | {sum(medians.values()):.3f} | vs median wall {wall:.3f} |",
        "",
        f"- around FFmpeg: median wall − FFmpeg process = {wall - ffmpeg:.2f} s; "
        f"FFmpeg process − raw median = {ffmpeg - median(raw.times):+.2f} s",
    ]


MEASURE = Measure(
    name="overhead",
    question="what does vidsvc add to one hand-written FFmpeg command?",
    takes="about 4 minutes (3 rounds of 4 renders of 16 s, and a warm-up)",
    quick_note="1 round at preset ultrafast: under a minute",
    run=run,
    defaults={"runs": 3, "warmup": 1, "preset": "medium", "server_jobs": 5},
    quick={"runs": 1, "preset": "ultrafast"},
)
