"""RELIABILITY.md group D (dependency outages): D1–D10.

Real `vidsvc serve` processes on throwaway PostgreSQL, Redis and S3 (moto) servers; FFmpeg is
the shim (slow_ffmpeg.py), which holds a render open for a set time and then renders a
one-second clip for real.

Not here, and why:
- D1 with AOF: our throwaway Redis keeps nothing on disk, so its restart comes back empty, which
  is D2's harder case; the D1 test below checks what D1 adds (renders not interrupted,
  streaming resumes, no hot loop in the logs).
- D2's NOGROUP handling: the backlog is a list (BLMOVE), not a Stream: there is no group to lose.
- D4's LISTEN/NOTIFY half: wake-ups come from the Redis backlog and a 1 s claim poll, not LISTEN.
- D5's /readyz and /livez are /health/detailed (readiness, 503 when the database is down) and
  /health (liveness, 200 while the process serves).
- D7: the classification is proven at the store boundary by tests/unit/store/test_s3.py
  (::test_input_errors_are_classified: NoSuchKey/AccessDenied permanent, 5xx/SlowDown retried;
  ::test_an_s3_input_with_s3_down_is_a_storage_error; ::test_the_client_recovers_after_an_outage);
  what a job does with a storage error that outlasts the retries is
  test_storage_down_retries_then_fails below.
- D8: the overall upload deadline is
  tests/unit/store/test_s3.py::test_a_black_hole_is_cut_by_the_deadline (a listener that accepts
  and never answers; the multipart upload is aborted); past it the job behaves as in
  test_storage_down_retries_then_fails, and its slot is free as soon as execute() returns.
- D9: needs a size-limited filesystem (tmpfs or a loop mount), which needs root; not on the dev
  machines or CI. Pinned mapping: ENOSPC in the local blob store is a StorageError (store/disk.py),
  so the job is retried after its lease and fails STORAGE_ERROR on its last attempt, as below;
  the partial temp file is removed by the store's write path.
- D10's slow receiver (each attempt cut at CALLBACK_TIMEOUT): test_security.py's S9 receivers;
  callbacks run outside the render pool (vidsvc/work/clips/callbacks.py), after the job's
  terminal commit, so they never gate the job's state nor hold a render slot.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aredis

from tests.support.callback_sink import (
    Receiver,
    callback_note,
    deps_for,
    quick_backoff,
    receiver,
)
from tests.support.fakes.faults import (
    Pair,
    doc,
    live_shims,
    metadata,
    pair,
    post,
    running_in,
    settle,
    single,
    tiny_clip,
    until,
)
from tests.support.pg_server import PgServer
from tests.support.redis_server import RedisServer
from tests.support.server import Server
from vidsvc.config import Settings
from vidsvc.errors import StorageError
from vidsvc.jobs import Job, JobKind, JobState, new_job_id, utcnow
from vidsvc.runner import execute, lifecycle
from vidsvc.store import Stores
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryBlobStore, MemoryJobStore
from vidsvc.store.sqlite import BUSY_TIMEOUT_MS
from vidsvc.work.clips import callbacks
from vidsvc.work.kinds import handlers

__all__ = ["pair", "quick_backoff", "receiver", "single", "tiny_clip"]  # fixtures
pytestmark = [pytest.mark.D, pytest.mark.ffmpeg]


def warnings_in(srv: Server) -> int:
    return sum(1 for line in srv.log.read_text().splitlines() if '"level"' in line)


@pytest.mark.timeout(120)
async def test_a_redis_restart_loses_no_job_and_websockets_keep_streaming(
    pair: Callable[..., Pair],
    http: aiohttp.ClientSession,
    tmp_path: Path,
    tiny_clip: Path,
    redis_server: RedisServer,
) -> None:
    """D1 and D3: Redis stops (and comes back empty) while A renders and a WebSocket on B
    watches. A POST during the outage is still 202 (the row is the truth) and completes once
    Redis is back; the running render is not interrupted (attempts 1); B's WebSocket streams
    to `completed`; the instances log a few warnings, not a hot loop."""
    a, b = pair(SLOW_FFMPEG_PLAN="sleep=5,sleep=0.2")
    a.start()
    b.start()
    job_id = await post(http, a.url, doc(tiny_clip))
    on_b = f"{b.url.replace('http', 'ws')}/ws/compositions/{job_id}"
    ws = await http.ws_connect(on_b)
    await until(lambda: running_in(tmp_path / "shim.pids", a, b), 20, "the render")
    before = warnings_in(a) + warnings_in(b)
    redis_server.stop()
    down = time.monotonic()
    try:
        started = time.monotonic()
        later = await post(http, b.url, doc(tiny_clip))  # 202 without Redis: the row counts
        print(f"D3: POST answered in {time.monotonic() - started:.2f} s with Redis down")
        await asyncio.sleep(1.5)
    finally:
        redis_server.start()  # empty: it keeps nothing on disk
    outage = time.monotonic() - down
    progress_after_restart = 0
    messages = []
    async with asyncio.timeout(60):
        async for msg in ws:
            messages.append(msg.json())
            progress_after_restart += messages[-1]["type"] == "progress"
    assert messages[-1]["type"] == "completed", messages[-3:]
    final = await settle(http, a.url, [job_id, later], 60)
    assert final[job_id]["attempts"] == 1 and final[later]["status"] == "completed", final
    logged = warnings_in(a) + warnings_in(b) - before
    print(f"D1: {logged} log lines from 2 instances over a {outage:.1f} s outage")
    assert logged <= 2 * 5 * (outage + 2)  # a few per second at most, never a hot loop


async def test_a_flushed_redis_loses_no_job(
    single: Callable[..., Server],
    http: aiohttp.ClientSession,
    tmp_path: Path,
    tiny_clip: Path,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """D2: FLUSHALL while one job renders and three wait in the Redis backlog: the reconciler
    (and the claim of the oldest queued row) bring them back; all complete on attempt 1."""
    srv = single(
        "sleep=2,sleep=0.2",
        MAX_CONCURRENT_JOBS="1",
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
    )
    srv.start()
    ids = [await post(http, srv.url, doc(tiny_clip)) for _ in range(4)]
    await until(lambda: live_shims(tmp_path / "shim.pids"), 20, "the first render")
    client = aredis.Redis.from_url(redis_url)
    try:
        assert await client.keys(f"{redis_prefix}*")
        await client.flushall()
    finally:
        await client.aclose()
    final = await settle(http, srv.url, ids, 60)
    assert [final[j]["status"] for j in ids] == ["completed"] * 4
    assert [final[j]["attempts"] for j in ids] == [1] * 4


async def test_an_evicting_redis_is_reported_not_ready(
    single: Callable[..., Server],
    http: aiohttp.ClientSession,
    redis_url: str,
    redis_prefix: str,
    redis_server: RedisServer,
) -> None:
    """D2's configuration check: with maxmemory-policy allkeys-lru, /health/detailed answers
    503 with redis unhealthy (an evicting Redis may drop queued ids); noeviction is ready."""
    srv = single(REDIS_URL=redis_url, REDIS_PREFIX=redis_prefix)
    client = aredis.Redis.from_url(redis_url)
    try:
        await client.config_set("maxmemory-policy", "allkeys-lru")
        srv.start()
        async with http.get(f"{srv.url}/health/detailed") as resp:
            body = await resp.json()
            assert resp.status == 503 and body["components"]["redis"] == "unhealthy", body
        async with http.get(f"{srv.url}/health") as resp:
            assert resp.status == 200  # alive, only not ready
    finally:
        await client.config_set("maxmemory-policy", "noeviction")
        await client.aclose()
    async with http.get(f"{srv.url}/health/detailed") as resp:
        body = await resp.json()
        assert resp.status == 200 and body["components"]["redis"] == "healthy", body


@pytest.mark.timeout(120)
async def test_a_postgres_restart_does_not_interrupt_renders(
    pair: Callable[..., Pair],
    http: aiohttp.ClientSession,
    tmp_path: Path,
    tiny_clip: Path,
    pg_server: PgServer,
) -> None:
    """D4: PostgreSQL restarts (fast shutdown, ~2 s down) while both instances render. The
    claims are committed leases, not held row locks, and the leases outlive the outage: neither
    job is taken by the peer, both complete on attempt 1, and a new POST afterwards completes."""
    if not pg_server.controllable:
        pytest.skip("restarts PostgreSQL: needs the throwaway server")
    a, b = pair(SLOW_FFMPEG_PLAN="sleep=4,sleep=4,sleep=0.2", LEASE_SECONDS="10")
    a.start()
    b.start()
    ids = [await post(http, a.url, doc(tiny_clip)) for _ in range(2)]
    pidfile = tmp_path / "shim.pids"
    await until(lambda: len(live_shims(pidfile)) == 2, 20, "both renders")
    await asyncio.to_thread(pg_server.stop)
    try:
        await asyncio.sleep(2)
    finally:
        await asyncio.to_thread(pg_server.start)
    final = await settle(http, a.url, ids, 60)
    assert [final[j]["status"] for j in ids] == ["completed"] * 2, final
    assert [final[j]["attempts"] for j in ids] == [1, 1]
    ran_on = sorted([(await metadata(http, a.url, j))["instance"] for j in ids])
    assert ran_on == ["a", "b"]
    later = await post(http, b.url, doc(tiny_clip))
    assert (await settle(http, b.url, [later], 30))[later]["status"] == "completed"


@pytest.mark.timeout(120)
async def test_postgres_down_makes_post_answer_503_and_loses_nothing(
    pair: Callable[..., Pair],
    http: aiohttp.ClientSession,
    tmp_path: Path,
    tiny_clip: Path,
    pg_server: PgServer,
) -> None:
    """D5: PostgreSQL is down: POST and GET by id answer 503 STORAGE_ERROR (never 500, never
    404), /health/detailed (readiness) 503 with database unhealthy, /health (liveness) 200.
    The render running meanwhile goes on and is committed after the recovery."""
    if not pg_server.controllable:
        pytest.skip("stops PostgreSQL: needs the throwaway server")
    a, _ = pair(SLOW_FFMPEG_PLAN="sleep=3", LEASE_SECONDS="10")
    a.start()
    accepted = await post(http, a.url, doc(tiny_clip))
    await until(lambda: live_shims(tmp_path / "shim.pids"), 20, "the render")
    await asyncio.to_thread(pg_server.stop)
    try:
        async with http.post(f"{a.url}/api/v1/compositions", json=doc(tiny_clip)) as r:
            body = await r.json()
            assert r.status == 503 and body["error"]["code"] == "STORAGE_ERROR", body
            assert "Retry-After" in r.headers
        async with http.get(f"{a.url}/api/v1/compositions/{accepted}") as r:
            body = await r.json()
            assert r.status == 503 and body["error"]["code"] == "STORAGE_ERROR", body
        async with http.get(f"{a.url}/health/detailed") as r:
            health = await r.json()
            assert r.status == 503 and health["components"]["database"] == "unhealthy", health
            assert health["components"]["redis"] == health["components"]["s3"] == "healthy"
        async with http.get(f"{a.url}/health") as r:
            assert r.status == 200
    finally:
        await asyncio.to_thread(pg_server.start)
    done = (await settle(http, a.url, [accepted], 60))[accepted]
    assert done["status"] == "completed" and done["attempts"] == 1, done
    async with http.get(f"{a.url}/api/v1/compositions?limit=100") as r:
        assert [j["composition_id"] for j in (await r.json())["items"]] == [accepted]


async def test_sqlite_under_write_contention_loses_no_accept(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path
) -> None:
    """D6: 50 concurrent POSTs and 3 × 20 concurrent GETs while 4 renders heartbeat every
    100 ms and write progress: every POST is 202 and its row exists, every GET 200, and the log
    has no "database is locked"; the file is in WAL mode and the busy timeout is ≥ 5 s."""
    srv = single(
        "sleep=0.5", MAX_CONCURRENT_JOBS="4", MAX_QUEUED_JOBS="100", HEARTBEAT_SECONDS="0.1"
    )
    srv.start()
    warm = [await post(http, srv.url, doc(tiny_clip)) for _ in range(4)]

    async def poster() -> tuple[int, str]:
        async with http.post(f"{srv.url}/api/v1/compositions", json=doc(tiny_clip)) as resp:
            return resp.status, (await resp.json()).get("composition_id", "")

    async def getter(job_id: str) -> int:
        async with http.get(f"{srv.url}/api/v1/compositions/{job_id}") as resp:
            await resp.read()
            return resp.status

    started = time.perf_counter()
    results = await asyncio.gather(
        *(poster() for _ in range(50)), *(getter(warm[i % 4]) for i in range(60))
    )
    print(f"D6: 50 POSTs + 60 GETs at once answered in {time.perf_counter() - started:.2f} s")
    posts = [r for r in results if isinstance(r, tuple)]
    gets = [r for r in results if isinstance(r, int)]
    assert {status for status, _ in posts} == {202} and set(gets) == {200}
    async with http.get(f"{srv.url}/api/v1/compositions?limit=100") as resp:
        rows = {j["composition_id"] for j in (await resp.json())["items"]}
    assert {job_id for _, job_id in posts} | set(warm) == rows
    assert "database is locked" not in srv.log.read_text()
    with sqlite3.connect(srv.root / "data" / "vidsvc.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert BUSY_TIMEOUT_MS >= 5000  # the store's own connection: tests/unit/store/test_sqlite.py


class DownBlobStore(MemoryBlobStore):
    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        raise StorageError("S3 is unavailable")


async def run_once(stores: Stores, settings: Settings, job_id: str) -> Job | None:
    job = await stores.jobs.claim(job_id, owner="w", lease_s=30)
    assert job is not None
    deps = lifecycle.Deps(settings=settings, stores=stores, instance_id="w")
    return await execute.execute(job, deps, lifecycle.Control(), handlers())


async def test_storage_down_retries_then_fails(
    make_settings: Callable[..., Settings],
    media: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D7(b), D8 and D9's job side: storage that stays down through the retries leaves the job
    to its lease (retried later, the attempt counted); the last allowed attempt fails
    STORAGE_ERROR."""
    monkeypatch.setattr(lifecycle, "RETRIES", 1)
    settings = make_settings()
    stores = Stores(
        jobs=MemoryJobStore(),
        blobs=DownBlobStore(),
        pubsub=MemoryPubSub(),
        backlog=MemoryBacklog(),
    )
    now = utcnow()
    payload = {"clips": [{"url": media["a"].as_uri(), "trim_end": 0.5}],
               "output": {"resolution": "180p", "fps": 10}}  # fmt: skip
    job = Job(id=new_job_id(), kind=JobKind.COMPOSITION, state=JobState.QUEUED, payload=payload,
              created_at=now, updated_at=now, max_attempts=2)  # fmt: skip
    await stores.jobs.create(job)

    assert await run_once(stores, settings, job.id) is None  # abandoned: lease left to lapse
    row = await stores.jobs.get(job.id)
    assert row is not None and row.state is JobState.PROCESSING
    reaped = await stores.jobs.reap_expired(utcnow() + timedelta(seconds=31))
    assert [(j.id, j.state) for j in reaped] == [(job.id, JobState.QUEUED)]

    final = await run_once(stores, settings, job.id)  # attempt 2 of 2: now it fails
    assert final is not None and final.state is JobState.FAILED
    assert final.error is not None and final.error.code == "STORAGE_ERROR"
    assert final.attempts == 2


async def test_5xx_and_429_are_retried_until_success(receiver: Callable[..., Any]) -> None:
    """D10: 5xx and 429 are retried with backoff until a 2xx; every attempt is recorded and
    carries the same X-Vidsvc-Event-Id (one idempotency key, C5)."""
    rec: Receiver = await receiver([500, 503, 429, 200])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is True
    hits = rec.hits["/cb"]
    assert len(hits) == 4
    assert len({h[callbacks.EVENT_ID_HEADER] for h, _ in hits}) == 1  # one idempotency key
    note = await callback_note(deps, job)
    assert [a["status"] for a in note["attempts"]] == [500, 503, 429, 200]


async def test_retries_stop_at_max_attempts(receiver: Callable[..., Any]) -> None:
    """D10: retries stop at CALLBACK_MAX_ATTEMPTS, recorded as not delivered."""
    rec: Receiver = await receiver([500] * 10)
    deps, job = await deps_for(rec, callback_max_attempts=3)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert len(rec.hits["/cb"]) == 3
    assert (await callback_note(deps, job))["delivered"] is False


async def test_4xx_is_permanent(receiver: Callable[..., Any]) -> None:
    """D10: a 4xx other than 429 ends delivery at once."""
    rec: Receiver = await receiver([404, 200])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert len(rec.hits["/cb"]) == 1


async def test_network_errors_are_retried_and_recorded(receiver: Callable[..., Any]) -> None:
    """D10: a receiver that is down (connection refused) is retried and each error recorded."""
    rec: Receiver = await receiver([])
    deps, job = await deps_for(rec, callback_max_attempts=2)
    dead = "http://127.0.0.1:1/cb"  # nothing listens on port 1
    deps = replace(deps, settings=replace(deps.settings, allowed_callback_hosts=("127.0.0.1:1",)))
    assert await callbacks.deliver(deps, job, dead) is False
    attempts = (await callback_note(deps, job))["attempts"]
    assert len(attempts) == 2 and all("error" in a for a in attempts)
