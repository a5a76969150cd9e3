"""The service benchmark's verdict: Markdown tables for the ratio, the time split and load."""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.api import STAGES, Submitted, breakdown, output_duration, stamp
from bench.load import ITEM, LISTING, LoadResult, percentiles, slowest
from bench.media import clip_names
from bench.reference import CRF, FPS, total_seconds
from bench.report import ffmpeg_version, probe_duration
from bench.timing import Contender

TARGET_RATIO = 1.05
TARGET_P99_MS = 50.0
SERVICE = "vidsvc service: POST → WS completed"


@dataclass
class ServiceRuns:
    """The measured service renders (warm-ups apart) and the server CPU of each."""

    jobs: list[Submitted] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    warmups: list[Submitted] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [job.wall for job in self.jobs]


def _ok(good: bool) -> str:
    return "ok" if good else "MISSES TARGET"


def header_lines(preset: str, concurrency: int, load_at_start: float) -> list[str]:
    return [
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}; {ffmpeg_version()}; "
        f"1-min load average at start {load_at_start:.2f}",
        f"composition: {len(clip_names())} clips, {total_seconds():g} s, 720p{FPS} CRF {CRF} "
        f"preset {preset}; inputs as file:// URLs; server MAX_CONCURRENT_JOBS={concurrency}, "
        "embedded mode (SQLite, in-process queue and pub/sub, local blobs)",
    ]


def ratio_lines(service: ServiceRuns, raw: Contender) -> list[str]:
    svc_wall, raw_wall = statistics.median(service.times), statistics.median(raw.times)
    svc_cpu, raw_cpu = statistics.median(service.cpu), statistics.median(raw.cpu)
    durations = [output_duration(job) for job in service.jobs]
    shown = ", ".join("?" if d is None else f"{d:.3f}" for d in durations)
    raw_duration = probe_duration(raw.output)
    ffmpeg_cpu = statistics.median(float(j.meta.get("cpu_seconds") or 0) for j in service.jobs)
    lines = [
        "## Service render vs the hand-written command",
        "",
        "| contender | wall per run (s) | median wall (s) | median cpu (s) | output (s) |",
        "|---|---|---|---|---|",
        f"| {SERVICE} | {_runs(service.times)} | {svc_wall:.2f} | {svc_cpu:.2f} | {shown} |",
        f"| {raw.name} | {_runs(raw.times)} | {raw_wall:.2f} | {raw_cpu:.2f} | "
        f"{'?' if raw_duration is None else f'{raw_duration:.3f}'} |",
        "",
        f"- ratio service/raw, wall: **{svc_wall / raw_wall:.3f}** (target <= {TARGET_RATIO}) "
        f"{_ok(svc_wall / raw_wall <= TARGET_RATIO)}",
        f"- ratio service/raw, cpu: {svc_cpu / raw_cpu:.3f} (server process + its reaped "
        "children from /proc/<pid>/stat, vs the raw FFmpeg's rusage)",
        f"- FFmpeg's own CPU inside the service (metadata cpu_seconds), median: "
        f"{ffmpeg_cpu:.2f} s, {ffmpeg_cpu / raw_cpu:.3f}x raw",
    ]
    if service.warmups:
        warm = ", ".join(f"{job.wall:.2f}" for job in service.warmups)
        lines.append(f"- warm-up service render(s), not counted: {warm} s")
    return lines


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def split_lines(service: ServiceRuns, raw: Contender) -> list[str]:
    """Median seconds per step of the measured service renders, raw's median beside them."""
    splits = [breakdown(job) for job in service.jobs]
    steps = ["post", "dispatch", *STAGES, "store", "notify"]
    medians = {step: statistics.median(s[step] for s in splits) for step in steps}
    ffmpeg = statistics.median(s["ffmpeg"] for s in splits)
    wall = statistics.median(service.times)
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
    lines = [
        "## Where the service's time goes (medians of the measured runs)",
        "",
        "| step | median (s) | what |",
        "|---|---|---|",
    ]
    lines += [f"| {step} | {medians[step]:.3f} | {notes[step]} |" for step in steps]
    accounted = sum(medians.values())
    raw_wall = statistics.median(raw.times)
    lines += [
        f"| sum of steps | {accounted:.3f} | vs median wall {wall:.3f} |",
        "",
        f"- around FFmpeg: median wall − FFmpeg process = {wall - ffmpeg:.2f} s; "
        f"FFmpeg process − raw median = {ffmpeg - raw_wall:+.2f} s",
    ]
    return lines


def load_lines(load: LoadResult, raw: Contender) -> list[str]:
    rows = [("all", load.all_latencies), (ITEM, load.latencies[ITEM])]
    rows.append((LISTING, load.latencies[LISTING]))
    overall = percentiles(load.all_latencies)
    lines = [
        f"## API latency while {len(load.jobs)} renders run at once",
        "",
        "| requests | count | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in rows:
        p = percentiles(values)
        lines.append(
            f"| {name} | {p['count']:.0f} | {p['p50']:.2f} | {p['p95']:.2f} | "
            f"{p['p99']:.2f} | {p['max']:.2f} |"
        )
    posts = ", ".join(f"{job.post_seconds * 1000:.1f}" for job in load.jobs)
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(load.statuses.items()))
    lines += [
        "",
        f"- p99 {overall['p99']:.2f} ms (target < {TARGET_P99_MS:g} ms) "
        f"{_ok(overall['p99'] < TARGET_P99_MS)}; HTTP statuses {statuses}",
        f"- the {len(load.jobs)} POSTs, submitted at once (ms): {posts}",
        f"- CPU over the phase: {load.server_cpu.own:.2f} s in the server process (API, "
        f"event loop), {load.server_cpu.children:.2f} s in its children (FFmpeg, ffprobe), "
        f"{load.client_cpu:.2f} s in the polling client (this process)",
        "- slowest requests (latency at seconds after the first POST): "
        + ", ".join(f"{lat * 1000:.1f} ms at +{at:.2f} s" for at, lat, _ in slowest(load)),
    ]
    return lines + jobs_lines(load, raw)


def jobs_lines(load: LoadResult, raw: Contender) -> list[str]:
    lines = [
        "",
        "| job | dispatch (s) | before encoding (s) | encoding (s) | after (s) | wall (s) "
        "| encodes from (+s) | finished (+s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    origin = min(job.posted_at for job in load.jobs)
    for job in load.jobs:
        s = breakdown(job)
        before = s["queued"] + s["downloading"] + s["validating"]
        after = s["uploading"] + s["store"] + s["notify"]
        encodes = stamp(job.meta["started_at"]) + before - origin
        finished = stamp(job.meta["finished_at"]) - origin
        lines.append(
            f"| {job.id} | {s['dispatch']:.3f} | {before:.3f} | {s['encoding']:.2f} | "
            f"{after:.3f} | {job.wall:.2f} | {encodes:.2f} | {finished:.2f} |"
        )
    sequential = len(load.jobs) * statistics.median(raw.times)
    lines += [
        "",
        f"- {len(load.jobs)} jobs at once: {load.wall:.2f} s from the first POST to the last "
        f"completion; {len(load.jobs)} × raw median = {sequential:.2f} s; ratio "
        f"{load.wall / sequential:.3f} (informational; < 1 means concurrency paid off)",
    ]
    return lines


def write_results(path: Path, lines: list[str], commands: list[str]) -> Path:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    body = [f"# Service benchmark ({stamp})", "", *lines, "", "## Commands", ""]
    body += ["```sh", *commands, "```", ""]
    path.write_text("\n".join(body))
    return path
