"""Does one composition render N times faster on N instances, through the service itself?

Real `vidsvc serve` processes on one PostgreSQL (a fresh database per run of the measure), one
Redis (a fresh key prefix per render) and one blob directory, each pinned to one core with
`taskset` (its FFmpeg children inherit the pin; never CPU quotas), MAX_CONCURRENT_JOBS=1 each:

- **1 instance, 1 core**: alone it is the only live instance, so it renders in one pass
  (SPLIT_MIN_INSTANCES=2): the baseline;
- **2 instances, 1 core each**: the composition is split (parts of about CHUNK_SECONDS, rows
  any instance claims, the join wherever one is free), posted to the first;
- **1 instance unpinned, one pass** (SPLIT_RENDERS=false) against **1 instance unpinned,
  splitting** (SPLIT_MIN_INSTANCES=1, MAX_CONCURRENT_JOBS=2): what the same path costs one
  instance.

The composition is the split measure's (split.py: 36 clips, 192 s at 720p30, crossfades and
cuts, a title, captions, music). Wall: the client's POST to its WebSocket's `completed`. CPU:
every server's own and its children's (/proc), over the render. The serial tail (the parent's
prepare until it hands off, the join) and each part's seconds come from the composition's
metadata (`split`). Then the simulation of split.py's model, fed with these service numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.harness.api import Submitted, fetch_metadata, submit, wait_ws
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.report import met
from bench.harness.server import Server, client_timeout
from bench.harness.timing import round_order
from bench.measures import split
from bench.measures.previews import assets as preview_assets
from sample_specs.media import ensure

ADMIN_DSN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
NOW = time.gmtime
ONE, TWO = "1 instance, 1 core", "2 instances, 1 core each"
FREE_ONE, FREE_SPLIT = "1 instance unpinned, one pass", "1 instance unpinned, splitting"
#: presence is said every REAPER_INTERVAL and lasts three of them (runner/leases.py)
KNOBS = {
    "REAPER_INTERVAL": "1",
    "HEARTBEAT_SECONDS": "1",
    "JOB_TIMEOUT": "900",
    "MAX_DURATION_SECONDS": "3600",
    "SPLIT_MIN_SECONDS": "20",
}


@dataclass
class Run:
    wall: float
    cpu: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def split(self) -> dict[str, Any]:
        note = self.meta.get("split")
        return note if isinstance(note, dict) else {}


async def database() -> str:
    """A fresh database on the local PostgreSQL; its URL."""
    name = f"vidsvc_bench_{os.getpid()}_{int(time.time())}"
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


async def drop(dsn: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def render(
    session: aiohttp.ClientSession, servers: list[Server], spec: dict[str, Any], settle: float
) -> Run:
    """Start `servers`, let them see each other (`settle` s), post to the first, stop them."""
    for srv in servers:
        srv.start()
    try:
        for srv in servers:
            await srv.wait_healthy(session)
        await asyncio.sleep(settle)
        before = [srv.cpu() for srv in servers]
        job: Submitted = await submit(session, servers[0].base, spec)
        await wait_ws(session, job)
        cpu = sum((srv.cpu() - b).total for srv, b in zip(servers, before, strict=True))
        await fetch_metadata(session, servers[0].base, job)
        return Run(wall=job.wall, cpu=cpu, meta=job.meta)
    except BaseException:
        for srv in servers:
            print(f"  log of {srv.root.name}:\n{srv.log_tail()}")
        raise
    finally:
        for srv in servers:
            await asyncio.to_thread(srv.stop)
            srv.kill()


def servers(name: str, root: Path, media: Path, dsn: str, chunk: int, tag: str) -> list[Server]:
    """The instances of contender `name`, on one database, one Redis prefix, one blob dir."""
    shared = {
        "DATABASE_URL": dsn,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": f"vb-{tag}:",
        "DATA_DIR": str(root / "blobs"),
        "CHUNK_SECONDS": str(chunk),
        **KNOBS,
    }
    plan: list[tuple[str | None, dict[str, str]]]
    if name == ONE:
        plan = [("0", {})]
    elif name == TWO:
        plan = [("0", {}), ("1", {})]
    elif name == FREE_ONE:
        plan = [(None, {"SPLIT_RENDERS": "false", "MAX_CONCURRENT_JOBS": "2"})]
    else:
        plan = [(None, {"SPLIT_MIN_INSTANCES": "1", "MAX_CONCURRENT_JOBS": "2"})]
    made = []
    for k, (cores, own) in enumerate(plan):
        env = {**shared, "INSTANCE_ID": f"{tag}-{k}", **own}
        made.append(Server(root / f"i{k}", media, 1, extra_env=env, cores=cores))
    return made


PAIRS = ([ONE, TWO], [FREE_ONE, FREE_SPLIT])


async def rounds(
    opts: Options,
    spec: dict[str, Any],
    media: Path,
    work: Path,
    pairs: tuple[list[str], ...] = PAIRS,
) -> dict[str, list[Run]]:
    got: dict[str, list[Run]] = {name: [] for pair in pairs for name in pair}
    dsn = await database()
    try:
        async with aiohttp.ClientSession(timeout=client_timeout()) as session:
            for round_no in range(opts.integer("runs")):
                for pair in pairs:
                    for name in round_order(pair, round_no):
                        tag = f"r{round_no}{list(got).index(name)}"
                        made = servers(
                            name, work / tag, media, dsn, opts.integer("chunk_seconds"), tag
                        )
                        run = await render(session, made, spec, 3.0 if len(made) > 1 else 0.5)
                        got[name].append(run)
                        note = run.split
                        print(
                            f"  round {round_no + 1} {name:<32} {run.wall:7.2f} s  cpu "
                            f"{run.cpu:6.1f} s  parts {note.get('parts', 0)} on "
                            f"{note.get('instances_used', 1)} instance(s)"
                        )
    finally:
        await drop(dsn)
    return got


def ffmpeg(part: dict[str, Any]) -> str:
    """A part's FFmpeg seconds (`render_seconds`), as a cell; – where its row lacks them."""
    seconds = part.get("render_seconds")
    return f"{seconds:.2f}" if isinstance(seconds, int | float) else "–"


def med(runs: list[Run], value: str = "wall") -> float:
    return float(statistics.median(float(getattr(r, value)) for r in runs))


def model(got: dict[str, list[Run]], seconds: float) -> split.Model:
    """split.py's model, from the service: its parts' seconds (each re-plans the split from
    the composition), its hand-off and join, the pinned and unpinned one passes."""
    notes = [r.split for r in got[TWO]]
    items = [p for n in notes for p in n["parts_run"]]
    sound = statistics.median(p["seconds"] for p in items if p["row"].endswith("_s"))
    videos = [p["seconds"] for p in items if not p["row"].endswith("_s")]
    k = len(videos) / len(notes)
    part_sum = sum(videos) / len(notes)
    fixed = max(0.0, (part_sum + sound - med(got[ONE])) / k)
    return split.Model(
        seconds=seconds,
        part_fixed=fixed,
        part_rate=(part_sum - k * fixed) / seconds,
        sound_rate=sound / seconds,
        prepare_rate=statistics.median(n["prepare_seconds"] for n in notes) / seconds,
        join_rate=statistics.median(n["join_seconds"] for n in notes) / seconds,
        today_rate=med(got[FREE_ONE]) / seconds,
    )


def contenders(got: dict[str, list[Run]]) -> list[str]:
    """Every contender's runs: wall and CPU seconds."""
    return [
        "| contender | wall (s) | CPU (s) |",
        "|---|---|---|",
        *(
            f"| {name} | {', '.join(f'{r.wall:.2f}' for r in runs)} | "
            f"{', '.join(f'{r.cpu:.1f}' for r in runs)} |"
            for name, runs in got.items()
        ),
    ]


def parts_table(notes: list[dict[str, Any]], cell: Callable[[dict[str, Any]], str]) -> list[str]:
    """A row per round: each item of the split (`cell` of its `parts_run` entry), the
    parent's prepare and the join."""
    first = notes[0]["parts_run"]
    names = " | ".join(p["row"].rsplit("_", 1)[1] for p in first)
    return [
        f"| round | {names} | prepare | join |",
        "|---|" + "---|" * (len(first) + 2),
        *(
            f"| {k + 1} | " + " | ".join(cell(p) for p in n["parts_run"])
            + f" | {n['prepare_seconds']:.2f} | {n['join_seconds']:.2f} |"
            for k, n in enumerate(notes)
        ),
    ]  # fmt: skip


def keep(work: Path, got: dict[str, list[Run]]) -> None:
    """Every run's numbers and metadata in `work/runs.json`, to read after."""
    kept = {name: [r.__dict__ for r in runs] for name, runs in got.items()}
    (work / "runs.json").write_text(json.dumps(kept, indent=1, default=str) + "\n")


def report(
    got: dict[str, list[Run]], seconds: float, opts: Options
) -> tuple[list[str], tuple[str, ...]]:
    speedup = med(got[ONE]) / med(got[TWO])
    alone = med(got[FREE_SPLIT]) / med(got[FREE_ONE])
    notes = [r.split for r in got[TWO]]
    tail = statistics.median(n["prepare_seconds"] + n["join_seconds"] for n in notes)
    used = sorted({n.get("instances_used", 0) for n in notes})
    lines = [
        f"- run: `python -m bench instances`, {time.strftime('%Y-%m-%d %H:%M:%S UTC', NOW())}",
        f"- composition: split.py's, {seconds:.0f} s at 720p{split.FPS}, preset "
        f"{opts.text('preset')}, {opts.integer('clips')} clips; parts of about "
        f"{opts.integer('chunk_seconds')} s; {opts.integer('runs')} rounds, paired, alternating",
        f"- the split used {used} instance(s); parts per split: "
        f"{sorted({n['parts'] for n in notes})}",
        "",
        "| what | measured | target | met |",
        "|---|---|---|---|",
        f"| speedup, N = 2: {ONE} / {TWO}, wall, medians | {med(got[ONE]):.2f} s / "
        f"{med(got[TWO]):.2f} s = **{speedup:.2f}×** | ≥ {split.TARGET_SPEEDUP}× | "
        f"{met(speedup >= split.TARGET_SPEEDUP)} |",
        f"| serial tail of the split: the parent's prepare until it hands off + the join "
        f"(download, concat, upload), of its wall | {tail:.2f} s = **{tail / med(got[TWO]):.1%}** "
        "| – | – |",
        f"| CPU: {TWO} / {ONE} | {med(got[TWO], 'cpu'):.1f} s / {med(got[ONE], 'cpu'):.1f} s = "
        f"{med(got[TWO], 'cpu') / med(got[ONE], 'cpu'):.3f} | – | – |",
        f"| {FREE_SPLIT} / {FREE_ONE}, wall | {med(got[FREE_SPLIT]):.2f} s / "
        f"{med(got[FREE_ONE]):.2f} s = **{alone:.3f}** | ≤ {split.TARGET_UNPINNED} | "
        f"{met(alone <= split.TARGET_UNPINNED)} |",
        f"| CPU: {FREE_SPLIT} / {FREE_ONE} | {med(got[FREE_SPLIT], 'cpu'):.1f} s / "
        f"{med(got[FREE_ONE], 'cpu'):.1f} s = "
        f"{med(got[FREE_SPLIT], 'cpu') / med(got[FREE_ONE], 'cpu'):.3f} | – | – |",
        "",
        *contenders(got),
        "",
        "Each part of the two-instance split: seconds on its instance (which include planning "
        "the split from the composition: every part stages, probes and compiles it again), "
        "of them its FFmpeg's, and (the instance):",
        "",
        *parts_table(notes, lambda p: f"{p['seconds']:.2f}, {ffmpeg(p)} ({p['instance'][-1]})"),
        "",
    ]
    m = model(got, seconds)
    names = (f"{TWO} (the service)", FREE_SPLIT)
    k = statistics.median(n["parts"] for n in notes)
    lines += split.simulation(m, (med(got[TWO]), med(got[FREE_SPLIT])), names, round(k))
    checks = (
        ("speedup", speedup >= split.TARGET_SPEEDUP),
        ("unpinned", alone <= split.TARGET_UNPINNED),
    )
    missed = tuple(name for name, ok in checks if not ok)
    return lines, missed


def run(ctx: Context, opts: Options) -> list[Section]:
    media, work = ctx.out / "media", ctx.out / "instances"
    print(f"instances' media in {media}:")
    ensure([*preview_assets(split.SOURCES)], media, force=ctx.force_media)
    work.mkdir(parents=True, exist_ok=True)
    spec = split.composition(media, opts.integer("clips"), opts.text("preset"))
    seconds = split.layout(opts.integer("clips"))[-1][1]
    got = asyncio.run(rounds(opts, spec, media, work))
    keep(work, got)
    lines, missed = report(got, seconds, opts)
    return [Section("instances", MEASURE.question, lines, missed=missed)]


MEASURE = Measure(
    name="instances",
    question="does one composition render N times faster on N instances, through the service?",
    takes="about 17 minutes (2 rounds of a 192 s composition at the product's default preset, "
    "medium: 1 and 2 one-core instances, then one unpinned instance splitting or not)",
    quick_note="10 clips (53.5 s) at ultrafast, 1 round: about 1 minute",
    run=run,
    # medium: X264_PRESET's default, what a user's render costs (the sound part's AAC does
    # not change with the preset, so a faster one understates what splitting gains)
    defaults={"runs": 2, "preset": "medium", "clips": 36, "chunk_seconds": 30},
    quick={"runs": 1, "preset": "ultrafast", "clips": 10, "chunk_seconds": 20},
)
