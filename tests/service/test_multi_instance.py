"""Two `vidsvc serve` instances on one PostgreSQL, one Redis and one S3 (moto): nothing is lost.

Jobs posted to A spread over both; a WebSocket on B streams a job rendered on A; SIGKILL of the
instance rendering a job gets it completed by the other once the lease expires; a Redis restart
loses no job and the WebSockets keep streaming; PostgreSQL down makes POST answer 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.pg_server import PgServer
from tests.support.redis_server import RedisServer
from tests.support.s3_server import S3Bucket
from tests.support.server import Server, composition, ffmpeg_pids, wait_for

pytestmark = pytest.mark.ffmpeg
Pair = tuple[Server, Server]


def terminal(body: dict[str, Any]) -> bool:
    return body.get("status") in ("completed", "failed", "cancelled")


@pytest.fixture
async def pair(
    tmp_path: Path,
    long_clip: Path,
    pg_server: PgServer,
    redis_url: str,
    redis_prefix: str,
    s3_bucket: S3Bucket,
) -> AsyncIterator[Callable[..., Pair]]:
    dsn = await pg_server.create_database()
    made: list[Server] = []

    def make(**env: str) -> Pair:
        shared = {
            "DATABASE_URL": dsn,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix,
            **s3_bucket.env(),
            "ALLOWED_LOCAL_DIRS": str(long_clip.parent),
            "SIGNING_KEY": "shared-by-both-instances",
            "MAX_CONCURRENT_JOBS": "1",
            "LEASE_SECONDS": "3",
            "HEARTBEAT_SECONDS": "1",
            "REAPER_INTERVAL": "1",
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


async def post(http: aiohttp.ClientSession, srv: Server, doc: dict[str, Any]) -> dict[str, Any]:
    async with http.post(f"{srv.url}/api/v1/compositions", json=doc) as resp:
        body: dict[str, Any] = await resp.json()
        assert resp.status == 202, body
        return body


async def metadata(http: aiohttp.ClientSession, srv: Server, job_id: str) -> dict[str, Any]:
    async with http.get(f"{srv.url}/api/v1/compositions/{job_id}/metadata") as resp:
        body: dict[str, Any] = await resp.json()
        return body


async def stream(http: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    async with http.ws_connect(url) as ws:
        return [msg.json() async for msg in ws if msg.type == aiohttp.WSMsgType.TEXT]


def renderer(a: Server, b: Server) -> Server | None:
    """The instance whose workspace an FFmpeg is running in."""
    for srv in (a, b):
        if ffmpeg_pids(srv.root):
            return srv
    return None


async def test_a_redis_restart_loses_no_job_and_websockets_keep_streaming(
    pair: Callable[..., Pair],
    http: aiohttp.ClientSession,
    long_clip: Path,
    redis_server: RedisServer,
) -> None:
    a, b = pair()
    a.start()
    b.start()
    job = await post(http, a, composition(long_clip))
    on_b = job["websocket_url"].replace(a.url.replace("http", "ws"), b.url.replace("http", "ws"))
    watching = asyncio.ensure_future(stream(http, on_b))
    url = f"{a.url}/api/v1/compositions/{job['composition_id']}"
    await wait_for(http, url, lambda body: body["status"] == "processing", 30)
    redis_server.stop()
    try:
        later = await post(http, b, composition(long_clip))  # 202 without Redis: the row counts
        await asyncio.sleep(1.0)
    finally:
        redis_server.start()  # empty: it keeps nothing on disk
    messages = await asyncio.wait_for(watching, 90)
    assert messages[-1]["type"] == "completed", messages[-3:]
    url = f"{a.url}/api/v1/compositions/{later['composition_id']}"
    assert (await wait_for(http, url, terminal, 90))["status"] == "completed"


async def test_postgres_down_makes_post_answer_503_and_loses_nothing(
    pair: Callable[..., Pair],
    http: aiohttp.ClientSession,
    long_clip: Path,
    pg_server: PgServer,
) -> None:
    if not pg_server.controllable:
        pytest.skip("stops PostgreSQL: needs the throwaway server")
    a, _ = pair()
    a.start()
    accepted = await post(http, a, composition(long_clip))
    pg_server.stop()
    try:
        async with http.post(f"{a.url}/api/v1/compositions", json=composition(long_clip)) as r:
            body = await r.json()
            assert r.status == 503 and body["error"]["code"] == "STORAGE_ERROR", body
        async with http.get(f"{a.url}/health/detailed") as r:
            health = await r.json()
            assert r.status == 503 and health["components"]["database"] == "unhealthy", health
            assert health["components"]["redis"] == health["components"]["s3"] == "healthy"
    finally:
        pg_server.start()
    url = f"{a.url}/api/v1/compositions/{accepted['composition_id']}"
    assert (await wait_for(http, url, terminal, 90))["status"] == "completed"
