"""Does the server's memory grow with jobs? VmRSS idle after warm-up, after 50 and after 100.

The jobs are tiny on purpose (a 2 s 320x180 clip with a text overlay, 180p ultrafast):
what is measured is what each job leaves behind in the server process (job rows, event
history, WebSocket and HTTP state, caches), not FFmpeg, which runs in its own process.
They go in waves of MAX_CONCURRENT_JOBS, each wave awaited before the next, so none
queues. RSS is read after the server has been idle for a moment (median of a few reads).
Growth from job 50 to job 100 beyond NOISE is what "grows with jobs" would look like; the
first 50 may grow as allocator arenas and caches fill once.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.harness.api import COMPOSITIONS, Group, JobFailed, Submitted, mark_done, submit
from bench.harness.measure import Context, Options
from bench.harness.server import Server, client_timeout, serving
from sample_specs.media import VideoRecipe, ensure, video_asset

TINY = VideoRecipe(
    "tiny_180p.mp4", 2.0, (320, 180), "testsrc2=s=320x180:r=30", "sine=f=500:sample_rate=48000"
)
SETTLE_S = 2.0
READS, READ_EVERY = 5, 0.2
#: RSS growth between two checkpoints that is still noise: allocator slack and the
#: SQLite page cache move by a few MiB, or by a couple of percent, without a leak.
NOISE_KIB, NOISE_SHARE = 4096, 0.02
POLL_S = 0.05


def ensure_tiny(media_dir: Path) -> Path:
    ensure([video_asset(TINY)], media_dir)
    return media_dir / TINY.name


def tiny_spec(clip: Path, n: int) -> dict[str, object]:
    """A 2 s 180p render; the job number in its text makes each request different."""
    return {
        "clips": [{"url": clip.resolve().as_uri(), "trim_start": 0, "trim_end": 2}],
        "overlays": [
            {
                "type": "text",
                "content": f"job {n}",
                "position": {"x": "center", "y": "top"},
                "start_time": 0,
                "duration": 2,
                "style": {"size": 24},
            },
        ],
        "output": {"resolution": "180p", "fps": 30, "crf": 28, "preset": "ultrafast"},
    }


@dataclass
class MemoryResult:
    checkpoints: dict[str, int] = field(default_factory=dict)  #: label -> VmRSS KiB
    peak_kib: int = 0  #: VmHWM at the end
    warmups: list[Submitted] = field(default_factory=list)
    jobs: list[Submitted] = field(default_factory=list)  #: the measured ones
    wall: float = 0.0  #: the measured jobs, first POST to last completion

    def growth(self, a: str, b: str) -> int:
        return self.checkpoints[b] - self.checkpoints[a]

    def within_noise(self, a: str, b: str) -> bool:
        return self.growth(a, b) <= max(NOISE_KIB, NOISE_SHARE * self.checkpoints[a])


async def wait_all(session: aiohttp.ClientSession, base: str, jobs: list[Submitted]) -> None:
    """Poll each job's status until all have completed; JobFailed if one did not."""
    pending = {job.id: job for job in jobs}
    deadline = time.perf_counter() + 300
    while pending:
        if time.perf_counter() > deadline:
            raise JobFailed(f"tiny jobs not done in 300 s: {', '.join(pending)}")
        for job_id in list(pending):
            async with session.get(f"{base}{COMPOSITIONS}/{job_id}") as resp:
                body = await resp.json(content_type=None)
            state = body.get("status") if isinstance(body, dict) else None
            if state == "completed":
                mark_done(pending.pop(job_id))
            elif state in ("failed", "cancelled"):
                raise JobFailed(f"{job_id} {state}: {body.get('error')}")
        await asyncio.sleep(POLL_S)


async def settled_rss(server: Server) -> int:
    await asyncio.sleep(SETTLE_S)
    reads = []
    for _ in range(READS):
        reads.append(server.rss_kib())
        await asyncio.sleep(READ_EVERY)
    return int(statistics.median(reads))


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def run_memory(
    session: aiohttp.ClientSession,
    server: Server,
    clip: Path,
    *,
    jobs: int,
    wave: int,
    warmup: int,
    progress: Callable[[str], None] = print,
) -> MemoryResult:
    """Warm up, read idle RSS, then `jobs` tiny jobs with a checkpoint at half and at the end."""
    result = MemoryResult()
    counter = 0

    async def batch(count: int) -> list[Submitted]:
        nonlocal counter
        done: list[Submitted] = []
        while count > 0:
            size = min(wave, count)
            specs = [tiny_spec(clip, counter + i) for i in range(size)]
            counter += size
            submitted = await asyncio.gather(*(submit(session, server.base, s) for s in specs))
            await wait_all(session, server.base, list(submitted))
            done += submitted
            count -= size
        return done

    result.warmups = await batch(warmup)
    result.checkpoints["idle"] = await settled_rss(server)
    progress(f"  idle after start-up + {warmup} warm-up jobs: {result.checkpoints['idle']} KiB")
    started = time.perf_counter()
    half = jobs // 2
    result.jobs += await batch(half)
    result.checkpoints[f"after {half}"] = await settled_rss(server)
    progress(f"  after {half} jobs: {result.checkpoints[f'after {half}']} KiB")
    result.jobs += await batch(jobs - half)
    result.wall = time.perf_counter() - started - SETTLE_S - READS * READ_EVERY
    result.checkpoints[f"after {jobs}"] = await settled_rss(server)
    progress(f"  after {jobs} jobs: {result.checkpoints[f'after {jobs}']} KiB")
    result.peak_kib = _peak_kib(server.pid)
    return result


async def _measure(ctx: Context, opts: Options) -> MemoryResult:
    jobs, wave = opts.integer("jobs"), opts.integer("server_jobs")
    print(f"  server memory: {jobs} small jobs")
    clip = ensure_tiny(ctx.out / "media")
    server = Server(ctx.out / "memory", ctx.out / "media", wave)

    async def body(server: Server) -> MemoryResult:
        return await run_memory(session, server, clip, jobs=jobs, wave=wave, warmup=wave)

    async with aiohttp.ClientSession(timeout=client_timeout()) as session:
        return await serving(session, server, body)


def measure(ctx: Context, opts: Options) -> tuple[list[str], tuple[str, ...]]:
    """Server RSS over small jobs: the section's lines and the missed target, if missed."""
    m = asyncio.run(_measure(ctx, opts))
    ctx.groups.append(Group("small 180p jobs (memory phase)", m.jobs, [*m.warmups, *m.jobs]))
    idle, half, end = list(m.checkpoints)
    mib = {k: v / 1024 for k, v in m.checkpoints.items()}
    flat = m.within_noise(half, end)
    checkpoints = ", ".join(f"{k} {v} KiB" for k, v in m.checkpoints.items())
    lines = [
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| server VmRSS idle (after start-up + warm-up) / {half} / {end} small jobs | "
        f"{mib[idle]:.1f} / {mib[half]:.1f} / {mib[end]:.1f} MiB: "
        f"{m.growth(idle, half) / 1024:+.1f} then **{m.growth(half, end) / 1024:+.1f} MiB** "
        f"| no growth beyond noise from {half} to {end} (≤ {NOISE_KIB // 1024} MiB or "
        f"{NOISE_SHARE:.0%}) | {'yes' if flat else '**no**'} |",
        "",
        f"- VmRSS {checkpoints}; peak (VmHWM) {m.peak_kib} KiB; {len(m.jobs)} jobs in "
        f"{m.wall:.1f} s, waves of {opts.integer('server_jobs')}",
    ]
    return lines, () if flat else (f"server RSS grew {m.growth(half, end)} KiB",)
