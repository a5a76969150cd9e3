"""Helpers of the L, C and D bars: the fault-injecting FFmpeg shim, tiny inputs, two instances.

The shim (slow_ffmpeg.py) injects the fault and then execs the real FFmpeg on a tiny clip, so a
job that survives the fault really completes (its output is probed like any other).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.media import make_video
from tests.support.pg_server import PgServer
from tests.support.s3_server import S3Bucket
from tests.support.server import Server

SHIM = Path(__file__).resolve().parent / "slow_ffmpeg.py"
TERMINAL = ("completed", "failed", "cancelled")
Pair = tuple[Server, Server]

# The RELIABILITY.md §0.3 knobs, for real servers
KNOBS = {
    "LEASE_SECONDS": "3",
    "HEARTBEAT_SECONDS": "1",
    "REAPER_INTERVAL": "1",
    "MAX_ATTEMPTS": "3",
    "JOB_TIMEOUT": "60",
    "SHUTDOWN_GRACE": "5",
    "KILL_GRACE": "2",
    "ENABLE_RENDER_CACHE": "false",  # identical tiny jobs must each run FFmpeg
    "RATE_LIMIT_PER_MINUTE": "0",  # the tests POST in bursts from one address
}


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of 160x120: the real FFmpeg renders it in a fraction of a second."""
    d = tmp_path_factory.mktemp("reliability-media")
    return make_video(d / "tiny.mp4", size="160x120", rate=15, seconds=1, tone=440)


def doc(clip: Path, **extra: Any) -> dict[str, Any]:
    return {
        "clips": [{"url": clip.as_uri()}],
        "output": {"resolution": "360p", "fps": 15, "preset": "ultrafast"},
        **extra,
    }


def shim_env(pidfile: Path, plan: str, clip: Path) -> dict[str, str]:
    """Server settings that run every render through the shim with `plan`."""
    return {
        "FFMPEG_BIN": str(SHIM),
        "SLOW_FFMPEG_PLAN": plan,
        "SLOW_FFMPEG_PIDFILE": str(pidfile),
        "ALLOWED_LOCAL_DIRS": str(clip.parent),
        "X264_PRESET": "ultrafast",
    }


def is_alive(pid: int) -> bool:
    """True while pid runs; a zombie counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(") ", 1)[1][0] != "Z"


def shim_pids(pidfile: Path, *, children: bool = False) -> list[int]:
    """Every pid the shim recorded (renders; with `children`, grandchildren too)."""
    if not pidfile.exists():
        return []
    pids = []
    for line in pidfile.read_text().splitlines():
        pid, _, kind = line.partition(" ")
        if pid and (children or kind != "child"):
            pids.append(int(pid))
    return pids


def live_shims(pidfile: Path) -> list[int]:
    return [pid for pid in shim_pids(pidfile, children=True) if is_alive(pid)]


async def until_gone(pidfile: Path, timeout: float) -> list[int]:
    """Wait for every recorded process to end; the ones still alive at the deadline."""
    deadline = time.monotonic() + timeout
    while live_shims(pidfile) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return live_shims(pidfile)


async def post(http: aiohttp.ClientSession, base: str, document: dict[str, Any]) -> str:
    async with http.post(f"{base}/api/v1/compositions", json=document) as resp:
        body = await resp.json()
        assert resp.status == 202, body
        job_id: str = body["composition_id"]
        return job_id


async def get(http: aiohttp.ClientSession, base: str, job_id: str) -> dict[str, Any]:
    async with http.get(f"{base}/api/v1/compositions/{job_id}") as resp:
        body: dict[str, Any] = await resp.json()
        return body


async def metadata(http: aiohttp.ClientSession, base: str, job_id: str) -> dict[str, Any]:
    async with http.get(f"{base}/api/v1/compositions/{job_id}/metadata") as resp:
        body: dict[str, Any] = await resp.json()
        return body


async def settle(
    http: aiohttp.ClientSession, base: str, ids: list[str], timeout: float
) -> dict[str, dict[str, Any]]:
    """Wait until every job is terminal (connection errors while a server restarts are fine)."""
    final: dict[str, dict[str, Any]] = {}
    seen: dict[str, dict[str, Any]] = {}  #: the last answer, to say where a job got stuck
    deadline = time.monotonic() + timeout
    while len(final) < len(ids) and time.monotonic() < deadline:
        for job_id in ids:
            if job_id in final:
                continue
            try:
                body = seen[job_id] = await get(http, base, job_id)
            except aiohttp.ClientError:
                break
            if body.get("status") in TERMINAL:
                final[job_id] = body
        await asyncio.sleep(0.1)
    missing = {j: seen.get(j) for j in ids if j not in final}
    assert not missing, f"not terminal after {timeout} s: {missing}"
    return final


@pytest.fixture
async def pair(
    tmp_path: Path,
    tiny_clip: Path,
    pg_server: PgServer,
    redis_url: str,
    redis_prefix: str,
    s3_bucket: S3Bucket,
) -> AsyncIterator[Callable[..., Pair]]:
    """Two instances on one PostgreSQL, one Redis and one S3 bucket, rendering through the shim
    (its pid file is tmp_path / "shim.pids")."""
    dsn = await pg_server.create_database()
    made: list[Server] = []

    def make(**env: str) -> Pair:
        shared = {
            "DATABASE_URL": dsn,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix,
            **s3_bucket.env(),
            **shim_env(tmp_path / "shim.pids", "sleep=0.3", tiny_clip),
            "SIGNING_KEY": "shared-by-both-instances",
            "MAX_CONCURRENT_JOBS": "1",
            **KNOBS,
            **env,
        }
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            made.append(Server(tmp_path / name, {**shared, "INSTANCE_ID": name}))
        return made[0], made[1]

    yield make
    for srv in made:
        srv.stop()
    await pg_server.drop_database(dsn)


@pytest.fixture
def single(tmp_path: Path, tiny_clip: Path) -> Iterator[Callable[..., Server]]:
    """One `vidsvc serve` (SQLite, local disk) rendering through the shim with `plan`; start it
    again after a kill with .start() (same data, same port)."""
    made: list[Server] = []

    def make(plan: str = "sleep=0.3", **env: str) -> Server:
        pidfile = tmp_path / "shim.pids"
        srv = Server(tmp_path, {**shim_env(pidfile, plan, tiny_clip), **KNOBS, **env})
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


def running_in(pidfile: Path, *servers: Server) -> Server | None:
    """The server whose workspace a live shim runs in."""
    for pid in live_shims(pidfile):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        for srv in servers:
            if cwd.startswith(str(srv.root) + "/"):
                return srv
    return None


def leftovers(srv: Server) -> list[Path]:
    """Scratch files under the server's TMP_DIR (jobs/<instance>/<workspace>)."""
    return list((srv.root / "tmp" / "jobs").glob("*/*"))


async def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll a sync or async check until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            try:
                value = await value
            except aiohttp.ClientError:
                value = None
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
