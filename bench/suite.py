"""The whole benchmark in one process (`make bench`): every measure of issue #6, one table.

Run as `python -m bench.suite`. Phases, each against the same baseline run in this process
(the reference composition as one hand-written FFmpeg command, bench.raw):

1. renders: rounds of {service POST → WS completed, `vidsvc render` CLI, vidsvc's compiled
   argv run bare, raw FFmpeg}, each round one place further along (medians);
2. MoviePy 2: the same composition written with MoviePy (bench.moviepy_ref);
3. throughput and API latency, once per FFmpeg threading policy: five compositions POSTed
   at once to a fresh server while one client polls the API back to back, against five
   sequential raw renders (run once, between the policies, so drift hits both alike);
4. memory: VmRSS of a fresh server idle, after 50 and after 100 small jobs;
5. the estimator's error over every job above.

Writes bench/results.md (committed; the README quotes it) and bench/out/suite_details.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import aiohttp

from bench.api import JobFailed, fetch_metadata, url_spec
from bench.bare import CompileFailed, compile_reference
from bench.estimates import Group
from bench.load import run_load
from bench.machine import describe, uptime
from bench.memory import MemoryResult, ensure_tiny, run_memory
from bench.policies import Policy, parse_policy, policies
from bench.raw import font_file, raw_command
from bench.render import prepare
from bench.server import Server, ServerFailed
from bench.service import service_once
from bench.service_report import ServiceRuns
from bench.suite_report import MOVIEPY, PolicyRun, Results, write
from bench.threads import ThreadSampler
from bench.timing import BARE, RAW, RENDER, Contender, RenderFailed, round_order, time_once

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SERVICE = "service"
LOAD_EVERY = 5.0
T = TypeVar("T")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.suite", description=__doc__)
    p.add_argument("--runs", type=int, default=3, help="rounds of the render phase (3)")
    p.add_argument("--moviepy-runs", type=int, default=1, help="MoviePy renders, 0 skips (1)")
    p.add_argument("--load-jobs", type=int, default=5, help="compositions at once (5)")
    p.add_argument("--concurrency", type=int, default=5, help="MAX_CONCURRENT_JOBS (5)")
    p.add_argument("--memory-jobs", type=int, default=100, help="small jobs, 0 skips (100)")
    p.add_argument(
        "--poll-rate",
        type=float,
        default=25.0,
        help="API requests per second during the throughput phase (5 frontends polling "
        "every 200 ms; its CPU comes out of the renders' share), 0: back to back (25)",
    )
    p.add_argument("--warmup", type=int, default=1, help="unmeasured service renders (1)")
    p.add_argument("--preset", default="medium", help="x264 preset for all (medium)")
    p.add_argument(
        "--policy",
        action="append",
        type=parse_policy,
        help="NAME=VAR=VALUE[,VAR=VALUE...]: a threading policy for the throughput phase "
        "(repeatable; default: vidsvc's choice and FFmpeg's own, see bench.policies)",
    )
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="work dir (bench/out)")
    p.add_argument("--results", type=Path, default=BENCH_DIR / "results.md")
    p.add_argument("--force-media", action="store_true", help="regenerate the input media")
    args = p.parse_args(argv)
    for name in ("runs", "load_jobs", "concurrency"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def log(message: str) -> None:
    print(message, flush=True)


async def with_server(
    session: aiohttp.ClientSession,
    server: Server,
    body: Callable[[Server], Awaitable[T]],
) -> T:
    server.start()
    try:
        ready = await server.wait_healthy(session)
        log(f"  server pid {server.pid} ({server.root.name}) healthy after {ready:.2f} s")
        return await body(server)
    except BaseException:
        log(f"  server log tail ({server.log_path}):\n{server.log_tail()}")
        raise
    finally:
        await asyncio.to_thread(server.stop)
        server.kill()


def timed(contender: Contender, log_dir: Path) -> tuple[float, float]:
    wall, cpu = time_once(contender, log_dir)
    contender.times.append(wall)
    contender.cpu.append(cpu)
    return wall, cpu


async def render_rounds(
    session: aiohttp.ClientSession,
    server: Server,
    spec: dict[str, object],
    others: list[Contender],
    args: argparse.Namespace,
    service: ServiceRuns,
) -> None:
    for i in range(args.warmup):
        job, _ = await service_once(session, server, spec)
        service.warmups.append(job)
        log(f"  warm-up {i + 1}/{args.warmup}  {SERVICE:<26} {job.wall:7.2f} s")
    names = [SERVICE, *(c.name for c in others)]
    by_name = {c.name: c for c in others}
    for round_no in range(args.runs):
        for name in round_order(names, round_no):
            if name == SERVICE:
                job, cpu = await service_once(session, server, spec)
                service.jobs.append(job)
                service.cpu.append(cpu)
                wall = job.wall
            else:
                wall, cpu = await asyncio.to_thread(timed, by_name[name], server.root)
            log(
                f"  run {round_no + 1}/{args.runs}  {name:<26} {wall:7.2f} s  (cpu {cpu:6.2f} s,"
                f" load {os.getloadavg()[0]:.1f})"
            )


async def policy_phase(
    session: aiohttp.ClientSession,
    server: Server,
    spec: dict[str, object],
    policy: Policy,
    args: argparse.Namespace,
) -> PolicyRun:
    jobs: int = args.load_jobs
    warm, _ = await service_once(session, server, spec)  # pays one-off costs, trains the model
    log(f"  warm-up render {warm.wall:.2f} s; now {jobs} at once")
    sampler = ThreadSampler(server.pid)
    sampling = asyncio.create_task(sampler.run())
    try:
        load = await run_load(session, server, spec, jobs, args.poll_rate or None)
    finally:
        sampling.cancel()
    for job in load.jobs:
        await fetch_metadata(session, server.base, job)
    outputs = sorted((server.root / "data").rglob("*.mp4"))
    log(f"  {jobs} at once: {load.wall:.2f} s, {len(load.all_latencies)} API requests")
    return PolicyRun(policy, load, sampler, outputs, warm)


async def renders_phase(
    session: aiohttp.ClientSession, args: argparse.Namespace, results: Results
) -> None:
    spec = url_spec(args.preset, args.out / "media")
    log(f"1/4 renders: {args.runs} round(s) of service, CLI, bare argv, raw")
    server = Server(args.out / "suite" / "renders", args.out / "media", args.concurrency)

    async def body(server: Server) -> None:
        await render_rounds(session, server, spec, results.contenders, args, results.service)

    await with_server(session, server, body)
    service = results.service
    history = [*service.warmups, *service.jobs]
    results.groups.append(Group("solo reference renders", service.jobs, history))


async def moviepy_phase(args: argparse.Namespace, results: Results) -> None:
    log(f"2/4 MoviePy 2: {args.moviepy_runs} render(s)")
    for i in range(args.moviepy_runs):
        wall, cpu = await asyncio.to_thread(timed, results.moviepy, args.out)
        log(f"  run {i + 1}  {MOVIEPY} {wall:7.2f} s  (cpu {cpu:6.2f} s)")


async def sequential_raw(args: argparse.Namespace, results: Results) -> None:
    log(f"  {args.load_jobs} sequential raw renders")
    for _ in range(args.load_jobs):
        wall, cpu = await asyncio.to_thread(time_once, results.raw, args.out)
        results.sequential.append(wall)
        results.sequential_cpu.append(cpu)
        log(f"    raw {wall:7.2f} s  (cpu {cpu:6.2f} s, load {os.getloadavg()[0]:.1f})")


async def throughput_phase(
    session: aiohttp.ClientSession, args: argparse.Namespace, results: Results
) -> None:
    """Each policy on a fresh server; the sequential raw renders sit in the middle."""
    spec = url_spec(args.preset, args.out / "media")
    chosen: list[Policy] = args.policy or policies()
    log(f"3/4 throughput and latency, policies: {', '.join(p.name for p in chosen)}")
    for k, policy in enumerate(chosen):
        if k == len(chosen) // 2:
            await sequential_raw(args, results)
        log(f"  policy {policy.name}: {policy.describe()}")
        root = args.out / "suite" / f"policy_{policy.name}"
        server = Server(root, args.out / "media", args.concurrency, policy.env)

        async def body(server: Server, policy: Policy = policy) -> PolicyRun:
            return await policy_phase(session, server, spec, policy, args)

        done = await with_server(session, server, body)
        results.policies.append(done)
        name = f"{args.load_jobs} at once, {policy.name}"
        results.groups.append(Group(name, done.load.jobs, [done.warm, *done.load.jobs]))
    if len(chosen) == 1:
        await sequential_raw(args, results)


async def memory_phase(
    session: aiohttp.ClientSession, args: argparse.Namespace, results: Results
) -> None:
    log(f"4/4 memory: {args.memory_jobs} small jobs")
    clip = ensure_tiny(args.out / "media")
    server = Server(args.out / "suite" / "memory", args.out / "media", args.concurrency)

    async def body(server: Server) -> MemoryResult:
        return await run_memory(
            session,
            server,
            clip,
            jobs=args.memory_jobs,
            wave=args.concurrency,
            warmup=args.concurrency,
            progress=log,
        )

    memory = results.memory = await with_server(session, server, body)
    history = [*memory.warmups, *memory.jobs]
    results.groups.append(Group("small 180p jobs (memory phase)", memory.jobs, history))


async def sample_load(results: Results) -> None:
    """The 1-min load average every LOAD_EVERY s: how noisy the machine was meanwhile."""
    while True:
        results.loads.append(os.getloadavg()[0])
        await asyncio.sleep(LOAD_EVERY)


async def run(args: argparse.Namespace, results: Results) -> None:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120)
    sampling = asyncio.create_task(sample_load(results))
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await renders_phase(session, args, results)
            if args.moviepy_runs:
                await moviepy_phase(args, results)
            await throughput_phase(session, args, results)
            if args.memory_jobs:
                await memory_phase(session, args, results)
    finally:
        sampling.cancel()


def contenders(args: argparse.Namespace, spec_path: Path) -> tuple[list[Contender], Contender]:
    """CLI, bare argv and raw (the render phase's subprocess contenders), and MoviePy."""
    out: Path = args.out
    raw_out = out / "out_raw.mp4"
    raw = Contender(RAW, raw_command(raw_out, args.preset, font_file()), raw_out, out)
    cli_out = out / "out_vidsvc.mp4"
    cli_argv = [sys.executable, "-m", "vidsvc", "render", str(spec_path), str(cli_out)]
    cli = Contender(RENDER, cli_argv, cli_out, out)
    compiled = compile_reference(spec_path, out / "bare", args.preset)
    bare = Contender(BARE, compiled.argv, compiled.output, compiled.work)
    mp_out = out / "out_moviepy.mp4"
    mp_argv = [sys.executable, "-m", "bench.moviepy_ref", str(out / "media"), str(mp_out)]
    mp_argv += ["--preset", args.preset, "--font", font_file()]
    moviepy = Contender(MOVIEPY, mp_argv, mp_out, ROOT)
    return [cli, bare, raw], moviepy


def _stop(signum: int, frame: object) -> None:
    # SystemExit unwinds through with_server's finally, so no server outlives the suite.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    args.out = args.out.resolve()
    before = uptime()
    log(f"load before: {before}")
    spec_path = prepare(args.out, args.preset, force_media=args.force_media)
    try:
        others, moviepy = contenders(args, spec_path)
    except CompileFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    results = Results(describe(), args, others, moviepy, load_before=before)
    try:
        asyncio.run(run(args, results))
    except (JobFailed, ServerFailed, RenderFailed, aiohttp.ClientError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    results.load_after = uptime()
    log(f"load after: {results.load_after}")
    summary, details = write(results, args.results, args.out / "suite_details.md", given)
    print("\n" + summary.read_text())
    log(f"wrote {summary} and {details}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
