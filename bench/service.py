"""Service benchmark: the reference composition through a real `vidsvc serve`.

Run as `python -m bench.service`. It starts `python -m vidsvc serve` on a free loopback
port (embedded mode, fresh state in bench/out/service/), then:

1. the render ratio: in alternating rounds, the reference composition POSTed to
   /api/v1/compositions and awaited on its WebSocket as a frontend does (timed from just
   before the POST to the `completed` message), against the hand-written FFmpeg command
   (bench.raw); target: service/raw <= 1.05 in median wall time (issue #6);
2. API latency under load: five compositions submitted at once, and one client reading
   GET /api/v1/compositions/{id} (round-robin; the list every 10th request) back to back
   until all five complete; target: p99 < 50 ms.

One unmeasured warm-up render goes first (--warmup): the server's first job pays one-off
costs (caches, the first FFmpeg version query) that a long-running service does not.
Writes bench/out/service_results.md; exits 1 when a job or the server fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bench.api import JobFailed, Submitted, fetch_metadata, submit, url_spec, wait_ws
from bench.load import LoadResult, run_load
from bench.raw import font_file, raw_command
from bench.render import prepare
from bench.server import Server, ServerFailed
from bench.service_report import (
    SERVICE,
    ServiceRuns,
    header_lines,
    load_lines,
    ratio_lines,
    split_lines,
    write_results,
)
from bench.timing import RAW, Contender, RenderFailed, time_once

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "out"
WIDTH = len(SERVICE)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--preset", default="medium", help="x264 preset for all (default medium)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="work dir (bench/out)")
    parser.add_argument(
        "--concurrency", type=int, default=5, help="server MAX_CONCURRENT_JOBS (default 5)"
    )
    parser.add_argument("--load-jobs", type=int, default=5, help="jobs at once under load (5)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured renders first (1)")
    parser.add_argument("--force-media", action="store_true", help="regenerate the input media")
    args = parser.parse_args(argv)
    for name in ("runs", "concurrency", "load_jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


async def service_once(
    session: aiohttp.ClientSession, server: Server, spec: dict[str, object]
) -> tuple[Submitted, float]:
    """One composition, POST to `completed`; (job with metadata, server CPU seconds)."""
    before = server.cpu()
    job = await submit(session, server.base, spec)
    await wait_ws(session, job)
    cpu = (server.cpu() - before).total
    await fetch_metadata(session, server.base, job)
    return job, cpu


async def ratio_rounds(
    session: aiohttp.ClientSession,
    server: Server,
    spec: dict[str, object],
    raw: Contender,
    args: argparse.Namespace,
) -> ServiceRuns:
    """Warm-ups, then `runs` rounds; the service goes first in even rounds, raw in odd ones."""
    runs = ServiceRuns()
    for i in range(args.warmup):
        job, _ = await service_once(session, server, spec)
        runs.warmups.append(job)
        print(f"  warm-up {i + 1}/{args.warmup}  {SERVICE:<{WIDTH}} {job.wall:7.2f} s")
    for round_no in range(args.runs):
        for first in ("service", "raw") if round_no % 2 == 0 else ("raw", "service"):
            if first == "service":
                job, cpu = await service_once(session, server, spec)
                runs.jobs.append(job)
                runs.cpu.append(cpu)
                name, wall = SERVICE, job.wall
            else:
                wall, cpu = await asyncio.to_thread(time_once, raw, server.root)
                raw.times.append(wall)
                raw.cpu.append(cpu)
                name = raw.name
            print(
                f"  run {round_no + 1}/{args.runs}  {name:<{WIDTH}} {wall:7.2f} s"
                f"  (cpu {cpu:6.2f} s, load {os.getloadavg()[0]:.1f})"
            )
    return runs


async def load_phase(
    session: aiohttp.ClientSession, server: Server, spec: dict[str, object], jobs: int
) -> LoadResult:
    print(f"latency under load: {jobs} compositions at once, polling until all complete")
    load = await run_load(session, server, spec, jobs)
    for job in load.jobs:
        await fetch_metadata(session, server.base, job)
    print(f"  {len(load.all_latencies)} requests in {load.wall:.2f} s")
    return load


async def run(args: argparse.Namespace, raw: Contender, server: Server) -> list[str]:
    """Both phases against a started server; returns the report's lines."""
    spec = url_spec(args.preset, args.out / "media")
    # No total: it would also bound a WebSocket; wait_ws has its own receive timeout.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        ready = await server.wait_healthy(session)
        print(f"server pid {server.pid} on {server.base}, healthy after {ready:.2f} s")
        print(f"timing {args.runs} round(s), preset {args.preset}:")
        service = await ratio_rounds(session, server, spec, raw, args)
        load = await load_phase(session, server, spec, args.load_jobs)
    return [
        *ratio_lines(service, raw),
        "",
        *split_lines(service, raw),
        "",
        *load_lines(load, raw),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    args.out = args.out.resolve()
    load_at_start = os.getloadavg()[0]
    prepare(args.out, args.preset, force_media=args.force_media)  # media, text files, ref.json
    root = args.out / "service"
    root.mkdir(parents=True, exist_ok=True)
    raw_out = root / "out_raw.mp4"
    raw = Contender(RAW, raw_command(raw_out, args.preset, font_file()), raw_out, args.out)
    server = Server(root, args.out / "media", args.concurrency)
    spec_path = root / "service_ref.json"
    spec_path.write_text(json.dumps(url_spec(args.preset, args.out / "media"), indent=2) + "\n")
    server.start()
    try:
        lines = asyncio.run(run(args, raw, server))
    except (JobFailed, ServerFailed, RenderFailed, aiohttp.ClientError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"server log tail ({server.log_path}):\n{server.log_tail()}", file=sys.stderr)
        return 1
    finally:
        try:
            server.stop()
        finally:
            server.kill()
    lines = [*header_lines(args.preset, args.concurrency, load_at_start), "", *lines]
    stopped = f"{server.stop_seconds or 0:.2f} s, exit code {server.exit_code}"
    lines += ["", f"server stopped by SIGTERM in {stopped}; log {server.log_path}"]
    print("\n" + "\n".join(lines))
    commands = [
        shlex.join([sys.executable, "-m", "bench.service", *given]),
        f"curl -sS -X POST -H 'Content-Type: application/json' --data @{spec_path} "
        f"{server.base}/api/v1/compositions",
        f"cd {args.out} && {shlex.join(raw.argv)}",
    ]
    print(f"\nwrote {write_results(args.out / 'service_results.md', lines, commands)}")
    return 0 if server.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
