"""Long form across instances (issue 27): two real `vidsvc serve` on one PostgreSQL, one Redis
and one S3 bucket (moto) split a 60 s composition into parts, each claimed by whichever is
free, and join them. The output is checked against the one pass of the same composition; the
faults are an instance SIGKILLed mid-part, a cancel while parts run on both, and an instance
whose FFmpeg reports another version. The composition: tests/support/split_doc.py.

Where a part must be caught running, that instance's FFmpeg is the shim (slow_ffmpeg.py),
which waits before it becomes the real FFmpeg: the fault is only the delay.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.compare import frame_count, frame_md5s, frames, psnr
from tests.support.fakes.faults import KNOBS, SHIM, get, metadata, post, settle, until, until_gone
from tests.support.media import make_render_ready
from tests.support.pg_server import PgServer
from tests.support.redis_server import RedisServer
from tests.support.s3_server import S3Bucket
from tests.support.server import Server
from tests.support.split_doc import long_document, pcm_md5, pts
from vidsvc.config import Settings
from vidsvc.graph.split import Split
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.schema import parse_composition
from vidsvc.store import Stores, open_stores
from vidsvc.work.compositions.render import render

pytestmark = [pytest.mark.C, pytest.mark.ffmpeg]
FRAMES = 600  #: 60 s at 10 fps
#: an FFmpeg that reports another build for `-version` and otherwise is the real one
OTHER_FFMPEG = """#!/bin/sh
if [ "$#" -eq 1 ] && [ "$1" = "-version" ]; then
  echo "ffmpeg version 9.9-standin Copyright (c) the tests"
  exit 0
fi
exec ffmpeg "$@"
"""
SPLIT = {
    "SPLIT_MIN_SECONDS": "20",
    "CHUNK_SECONDS": "20",  # three video parts, and the sound
    "MAX_CONCURRENT_JOBS": "1",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("split-media")
    return root, long_document(root)


@pytest.fixture
async def duo(
    tmp_path: Path,
    pg_server: PgServer,
    redis_url: str,
    redis_prefix: str,
    s3_bucket: S3Bucket,
    media: tuple[Path, dict[str, Any]],
) -> AsyncIterator[Callable[..., Duo]]:
    """Two instances, `a` and `b` (started), each with its own extra settings, and the
    shared database as they read it."""
    dsn = await pg_server.create_database()
    made: list[Server] = []
    reader = Settings(database_url=dsn, data_dir=tmp_path / "reader")
    async with open_stores(reader) as stores:

        def make(a: dict[str, str] | None = None, b: dict[str, str] | None = None) -> Duo:
            shared = {
                "DATABASE_URL": dsn,
                "REDIS_URL": redis_url,
                "REDIS_PREFIX": redis_prefix,
                **s3_bucket.env(),
                "SIGNING_KEY": "shared-by-both-instances",
                "ALLOWED_LOCAL_DIRS": str(media[0]),
                **KNOBS,
                **SPLIT,
            }
            for name, own in (("a", a), ("b", b)):
                (tmp_path / name).mkdir()
                env = {**shared, "INSTANCE_ID": name, **(own or {})}
                made.append(Server(tmp_path / name, env))
            for srv in made:
                srv.start()
            return Duo(a=made[0], b=made[1], stores=stores)

        yield make
        for srv in made:
            srv.stop()
    await pg_server.drop_database(dsn)


@dataclass
class Duo:
    a: Server
    b: Server
    stores: Stores


def slow(pidfile: Path, seconds: float, *, first: float | None = 0.1) -> dict[str, str]:
    """Every FFmpeg waits `seconds` before it renders, but the first one of all the instances
    sharing `pidfile`, which waits `first` (the composition's own loudness pass, before it
    splits; None: it waits `seconds` too)."""
    plan = f"sleep={seconds}" if first is None else f"sleep={first},sleep={seconds}"
    return {"FFMPEG_BIN": str(SHIM), "SLOW_FFMPEG_PLAN": plan, "SLOW_FFMPEG_PIDFILE": str(pidfile)}


async def parts(stores: Stores) -> list[Job]:
    return await stores.jobs.list(kind=JobKind.PART, limit=100)


async def running_on(stores: Stores, *owners: str) -> set[str]:
    """Which of `owners` hold a video part or the sound (not the join) now."""
    held = {
        row.lease.owner
        for row in await parts(stores)
        if row.state is JobState.PROCESSING and row.lease and not row.id.endswith("_j")
    }
    return held & set(owners)


async def on_both(stores: Stores) -> bool:
    """Each of the two instances holds a part."""
    return len(await running_on(stores, "a", "b")) == 2


async def download(http: aiohttp.ClientSession, srv: Server, job_id: str, dest: Path) -> Path:
    async with http.get(f"{srv.url}/api/v1/compositions/{job_id}/download") as resp:
        assert resp.status == 200, await resp.text()
        dest.write_bytes(await resp.read())
    return dest


async def one_pass(document: dict[str, Any], tmp_path: Path) -> Path:
    """The reference: the same composition rendered in one pass, in process."""
    settings = Settings(tmp_dir=tmp_path / "one-work", allowed_local_dirs=(Path("/"),),
                        x264_preset="ultrafast")  # fmt: skip
    out = tmp_path / "one.mp4"
    await render(parse_composition(document), settings, video_out=out,
                 thumbnail_out=tmp_path / "one.jpg")  # fmt: skip
    return out


async def test_two_instances_render_the_frames_of_one_pass(
    duo: Callable[..., Duo],
    http: aiohttp.ClientSession,
    media: tuple[Path, dict[str, Any]],
    s3_bucket: S3Bucket,
    tmp_path: Path,
) -> None:
    """Both instances render parts; the join is the one pass's frames (count, timestamps,
    PSNR at every seam), its sound bit for bit; the parts' files are gone after the join."""
    pair = duo()
    job_id = await post(http, pair.a.url, media[1])
    final = (await settle(http, pair.a.url, [job_id], 120))[job_id]
    assert final["status"] == "completed", final
    split = (await metadata(http, pair.b.url, job_id))["split"]
    assert split["parts"] == 3 and split["instances"] == 2, split
    assert split["instances_used"] == 2, split["parts_run"]
    out = await download(http, pair.b, job_id, tmp_path / "split.mp4")
    one = await one_pass(media[1], tmp_path)
    assert frame_count(out) == frame_count(one) == FRAMES
    assert pts(out) == pts(one)
    rows = await parts(pair.stores)
    seams = [p.first for p in Split.from_dict(rows[0].payload["split"]).parts[1:]]
    picked = sorted({0, FRAMES - 1, *(s + d for s in seams for d in (-1, 0, 1))})
    ours, theirs = frames(out, picked), frames(one, picked)
    assert all(psnr(ours[n], theirs[n]) >= 40 for n in picked), picked
    assert pcm_md5(out) == pcm_md5(one)
    assert {row.state for row in rows} == {JobState.COMPLETED} and len(rows) == 5  # 3 + s + j
    assert not [key for key in s3_bucket.keys() if key.startswith("parts/")]


async def test_two_instances_split_what_smart_rendering_encodes(
    duo: Callable[..., Duo],
    http: aiohttp.ClientSession,
    media: tuple[Path, dict[str, Any]],
    tmp_path: Path,
) -> None:
    """Render-ready clips (60 s, titled from 15 s): each instance makes smart rendering's
    decision itself and plans the same copies (else the plan hashes differ and it takes no
    part); the 46 s left to encode are the two parts, the first 14 s are the source's GOPs,
    copied by the join from the source it stages."""
    ready = media[0] / "ready.mp4"
    if not ready.exists():
        make_render_ready(ready, seconds=20, preset="superfast")
    clip = {"url": ready.as_uri(), "trim_end": 20}
    title = {"type": "text", "content": "A title", "start_time": 15, "duration": 45}
    doc = {"clips": [clip] * 3, "overlays": [title], "cache": False,
           "output": {"resolution": "720p", "preset": "superfast"}}  # fmt: skip
    pair = duo()
    job_id = await post(http, pair.a.url, doc)
    final = (await settle(http, pair.a.url, [job_id], 120))[job_id]
    assert final["status"] == "completed", final
    found = await metadata(http, pair.b.url, job_id)
    split, smart = found["split"], found["smart_render"]
    assert split["parts"] == 2 and split["instances_used"] == 2, split
    assert smart["copied_frames"] == 420 and smart["encoded_frames"] == 1380, smart
    assert sum(run["frames"] or 0 for run in split["parts_run"]) == 1380
    out = await download(http, pair.b, job_id, tmp_path / "split.mp4")
    assert frame_count(out) == 1800
    assert frame_md5s(out, 0, 420) == frame_md5s(ready, 0, 420)


async def test_an_instance_killed_mid_part_costs_that_part_only(
    duo: Callable[..., Duo],
    http: aiohttp.ClientSession,
    media: tuple[Path, dict[str, Any]],
    tmp_path: Path,
) -> None:
    """SIGKILL `b` while it renders a part: its lease runs out, `a` reaps it and renders that
    part again; the job completes with the exact frame count, every other part once."""
    pair = duo(b=slow(tmp_path / "shim.pids", 20, first=None))  # every part on b is slow
    job_id = await post(http, pair.a.url, media[1])
    # (b may plan the split itself first: its loudness pass waits 20 s too)
    await until(lambda: running_on(pair.stores, "b"), 60, "b rendering a part")
    victim = next(row.id for row in await parts(pair.stores)
                  if row.lease and row.lease.owner == "b")  # fmt: skip
    pair.b.signal(signal.SIGKILL)
    pair.b.wait()
    final = (await settle(http, pair.a.url, [job_id], 90))[job_id]
    assert final["status"] == "completed", final
    ran = {p["row"]: p for p in (await metadata(http, pair.a.url, job_id))["split"]["parts_run"]}
    assert ran[victim]["attempts"] == 2 and ran[victim]["instance"] == "a", ran
    assert all(p["attempts"] == 1 for row, p in ran.items() if row != victim), ran
    out = await download(http, pair.a, job_id, tmp_path / "split.mp4")
    assert frame_count(out) == FRAMES
    assert pts(out) == sorted(pts(out), key=float)


async def test_a_cancel_stops_the_parts_on_both_instances(
    duo: Callable[..., Duo],
    http: aiohttp.ClientSession,
    media: tuple[Path, dict[str, Any]],
    tmp_path: Path,
) -> None:
    """The cancel ends the waiting composition at once; each instance stops its part at its
    next heartbeat, and no FFmpeg is left."""
    pidfile = tmp_path / "shim.pids"
    pair = duo(a=slow(pidfile, 60), b=slow(pidfile, 60))
    job_id = await post(http, pair.a.url, media[1])

    await until(lambda: on_both(pair.stores), 30, "a part running on each instance")
    async with http.delete(f"{pair.b.url}/api/v1/compositions/{job_id}") as resp:
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["status"] == "cancelled"
    assert await until_gone(pidfile, 10) == []

    async def ended() -> bool:
        rows = await parts(pair.stores)
        return len(rows) == 4 and all(row.state is JobState.CANCELLED for row in rows)

    await until(ended, 10, "every part row cancelled")
    assert (await get(http, pair.a.url, job_id))["status"] == "cancelled"


async def test_an_instance_with_another_ffmpeg_takes_no_part(
    duo: Callable[..., Duo],
    http: aiohttp.ClientSession,
    media: tuple[Path, dict[str, Any]],
    tmp_path: Path,
) -> None:
    """`b`'s FFmpeg says it is another version: its bytes would not join, so every part is
    rendered where the plan was made, and the job completes."""
    other = tmp_path / "other_ffmpeg"
    other.write_text(OTHER_FFMPEG)
    other.chmod(0o755)
    pair = duo(b={"FFMPEG_BIN": str(other)})
    job_id = await post(http, pair.a.url, media[1])
    final = (await settle(http, pair.a.url, [job_id], 120))[job_id]
    assert final["status"] == "completed", final
    split = (await metadata(http, pair.a.url, job_id))["split"]
    planner = split["instance"]
    assert {p["instance"] for p in split["parts_run"]} == {planner}, split
    other = "b" if planner == "a" else "a"  # idle when the parts were queued: it claimed one
    declined = [row.metadata.get("declined", []) for row in await parts(pair.stores)]
    assert any(other in names for names in declined), declined
    assert frame_count(await download(http, pair.a, job_id, tmp_path / "s.mp4")) == FRAMES


async def test_a_redis_restart_mid_job_loses_no_part(
    duo: Callable[..., Duo],
    http: aiohttp.ClientSession,
    media: tuple[Path, dict[str, Any]],
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    """Redis comes back empty while parts run on both instances: the queued rows are claimed
    from the database and pushed again by the reconciler; the job completes, whole."""
    pidfile = tmp_path / "shim.pids"
    pair = duo(a=slow(pidfile, 3), b=slow(pidfile, 3))
    job_id = await post(http, pair.a.url, media[1])

    await until(lambda: on_both(pair.stores), 30, "a part running on each instance")
    await asyncio.to_thread(redis_server.restart, 1.0)
    final = (await settle(http, pair.a.url, [job_id], 90))[job_id]
    assert final["status"] == "completed", final
    assert (await metadata(http, pair.a.url, job_id))["split"]["instances_used"] == 2
    assert frame_count(await download(http, pair.a, job_id, tmp_path / "s.mp4")) == FRAMES


async def test_a_postgres_restart_mid_fan_in_completes_once(
    duo: Callable[..., Duo],
    http: aiohttp.ClientSession,
    media: tuple[Path, dict[str, Any]],
    pg_server: PgServer,
    tmp_path: Path,
) -> None:
    """PostgreSQL restarts while parts finish: their fenced completions wait the outage out,
    the join is released once, and no part is rendered twice."""
    if not pg_server.controllable:
        pytest.skip("restarts PostgreSQL: needs the throwaway server")
    pidfile = tmp_path / "shim.pids"
    long_lease = {"LEASE_SECONDS": "15", **slow(pidfile, 2)}
    pair = duo(a=long_lease, b=long_lease)
    job_id = await post(http, pair.a.url, media[1])

    await until(lambda: on_both(pair.stores), 30, "a part running on each instance")
    await asyncio.to_thread(pg_server.stop)
    try:
        await asyncio.sleep(2.5)  # the parts end meanwhile: their completions wait
    finally:
        await asyncio.to_thread(pg_server.start)
    final = (await settle(http, pair.a.url, [job_id], 90))[job_id]
    assert final["status"] == "completed", final
    split = (await metadata(http, pair.a.url, job_id))["split"]
    assert all(p["attempts"] == 1 for p in split["parts_run"]), split["parts_run"]
    joins = [row for row in await parts(pair.stores) if row.id.endswith("_j")]
    assert len(joins) == 1 and joins[0].state is JobState.COMPLETED
