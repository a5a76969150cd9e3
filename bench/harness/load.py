"""API latency under load: five renders at once, and a client reading the API meanwhile.

The client is one aiohttp session issuing requests (keep-alive): GET
/api/v1/compositions/{id} round-robin over the five jobs, and every 10th request the list
(GET /api/v1/compositions). It records every latency until all five have completed. Back
to back (rate None) it measures the worst case, but then the client and the server's
request handling take most of a core from the renders; at a fixed rate (requests per
second, as many frontends polling would send) the renders keep the machine, so the same
phase also measures throughput. Both processes share the cores with the FFmpegs, as a
real frontend's requests share the service's with its renders.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.harness.api import (
    COMPOSITIONS,
    JOB_TIMEOUT,
    JobFailed,
    Submitted,
    breakdown,
    mark_done,
    stamp,
    submit,
)
from bench.harness.server import Cpu, Server

ITEM, LISTING = "GET /compositions/{id}", "GET /compositions (list)"
LIST_EVERY = 10
TARGET_P99_MS = 50.0


@dataclass
class LoadResult:
    jobs: list[Submitted]
    latencies: dict[str, list[float]] = field(default_factory=lambda: {ITEM: [], LISTING: []})
    statuses: dict[int, int] = field(default_factory=dict)  #: HTTP status -> count
    wall: float = 0.0  #: before the first POST -> the last job seen completed
    server_cpu: Cpu = field(default_factory=lambda: Cpu(0.0, 0.0))  #: over the phase
    #: the server's event-loop thread over the phase: (s on a CPU, s waiting for one)
    loop_sched: tuple[float, float] = (0.0, 0.0)
    client_cpu: float = 0.0  #: this process's CPU over the phase (the polling client)
    origin: float = 0.0  #: perf_counter() just before the first POST
    samples: list[tuple[float, float, str]] = field(default_factory=list)  #: (start, s, kind)

    @property
    def all_latencies(self) -> list[float]:
        return [t for times in self.latencies.values() for t in times]


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def slowest(result: LoadResult, n: int = 5) -> list[tuple[float, float, str]]:
    """The n slowest requests as (seconds after the first POST, latency, kind)."""
    return sorted(result.samples, key=lambda sample: sample[1], reverse=True)[:n]


def percentiles(values: list[float]) -> dict[str, float]:
    """count, p50, p95, p99 and max, in milliseconds (inclusive quantiles)."""
    ms = sorted(v * 1000 for v in values)
    if len(ms) < 2:
        one = ms[0] if ms else float("nan")
        return {"count": len(ms), "p50": one, "p95": one, "p99": one, "max": one}
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {"count": len(ms), "p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": ms[-1]}


async def _get(
    session: aiohttp.ClientSession, url: str, result: LoadResult, kind: str
) -> tuple[int, Any]:
    started = time.perf_counter()
    async with session.get(url) as resp:
        raw = await resp.read()
        latency = time.perf_counter() - started
        status = resp.status
    result.latencies[kind].append(latency)
    result.samples.append((started - result.origin, latency, kind))
    result.statuses[status] = result.statuses.get(status, 0) + 1
    return status, json.loads(raw) if raw else None


async def run_load(
    session: aiohttp.ClientSession,
    server: Server,
    spec: dict[str, object],
    jobs: int,
    rate: float | None = None,
) -> LoadResult:
    """Submit `jobs` compositions at once, then poll at `rate` per second (None: flat out).

    Raises JobFailed when a job fails or is cancelled (after recording what was seen).
    """
    cpu_before, client_before, sched_before = server.cpu(), self_cpu(), server.loop_sched()
    started = time.perf_counter()
    submitted = await asyncio.gather(*(submit(session, server.base, spec) for _ in range(jobs)))
    result = LoadResult(jobs=list(submitted), origin=started)
    pending = {job.id: job for job in submitted}
    failures: list[str] = []
    requests = items = 0
    while pending:
        if time.perf_counter() - started > JOB_TIMEOUT:
            raise JobFailed(f"not completed within {JOB_TIMEOUT:g} s: {', '.join(pending)}")
        if rate is not None:
            # Paced from the start, so a slow answer is not followed by a longer gap.
            await asyncio.sleep(max(0.0, started + requests / rate - time.perf_counter()))
        requests += 1
        if requests % LIST_EVERY == 0:
            await _get(session, f"{server.base}{COMPOSITIONS}", result, LISTING)
            continue
        job = submitted[items % jobs]
        items += 1
        status, body = await _get(session, f"{server.base}{COMPOSITIONS}/{job.id}", result, ITEM)
        if job.id not in pending or status != 200 or not isinstance(body, dict):
            continue
        state = body.get("status")
        if state == "completed":
            mark_done(pending.pop(job.id))
        elif state in ("failed", "cancelled"):
            pending.pop(job.id)
            failures.append(f"{job.id} {state}: {body.get('error')}")
    result.wall = time.perf_counter() - started
    result.server_cpu = server.cpu() - cpu_before
    sched = server.loop_sched()
    result.loop_sched = (sched[0] - sched_before[0], sched[1] - sched_before[1])
    result.client_cpu = self_cpu() - client_before
    if failures:
        raise JobFailed("; ".join(failures))
    return result


def _ok(good: bool) -> str:
    return "ok" if good else "MISSES TARGET"


def load_lines(load: LoadResult, raw_wall: float) -> list[str]:
    """Per-request and per-job tables of one phase; `raw_wall`: one raw render's median."""
    rows = [("all", load.all_latencies), (ITEM, load.latencies[ITEM])]
    rows.append((LISTING, load.latencies[LISTING]))
    overall = percentiles(load.all_latencies)
    lines = [
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
    return lines + jobs_lines(load, raw_wall)


def jobs_lines(load: LoadResult, raw_wall: float) -> list[str]:
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
    sequential = len(load.jobs) * raw_wall
    lines += [
        "",
        f"- {len(load.jobs)} jobs at once: {load.wall:.2f} s from the first POST to the last "
        f"completion; {len(load.jobs)} × raw median = {sequential:.2f} s; ratio "
        f"{load.wall / sequential:.3f} (informational; < 1 means concurrency paid off)",
    ]
    return lines
