"""RELIABILITY.md group C (crash and restart): C1–C8. C9 and C10 are in the limits suite.

Real `vidsvc serve` processes, killed, stopped and restarted; FFmpeg is the shim
(slow_ffmpeg.py), which injects the fault and then renders a one-second clip for real.

Not here, and why:
- C1 "again with PG": the PostgreSQL path of a SIGKILL is C2a (a peer reaps the expired lease).
- C4's fault hook: not needed; the claim is backlog-first (BLMOVE, then the DB claim), and the
  test recreates the exact state a crash in that window leaves (an id in a dead consumer's
  processing list, the row queued) through the store API.
- C5's fault hook: likewise the state a crash after the upload and before the commit leaves (a
  claimed row whose owner is dead, its output already stored) is built through the store API;
  a composition's webhook is due only once its row is terminal (test_webhooks_durable.py), and a
  clips job posts its callback only after the commit, so no callback can precede the crash.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.support.fakes.faults import (
    Pair,
    doc,
    get,
    is_alive,
    leftovers,
    live_shims,
    metadata,
    pair,
    post,
    running_in,
    settle,
    shim_pids,
    single,
    tiny_clip,
    until,
    until_gone,
)
from tests.support.s3_server import S3Bucket
from tests.support.server import Server
from vidsvc.config import Settings
from vidsvc.jobs import Job, JobKind, JobState, new_job_id, utcnow
from vidsvc.store import open_stores

__all__ = ["pair", "single", "tiny_clip"]
pytestmark = [pytest.mark.C, pytest.mark.ffmpeg]


def new_job(clip: Path) -> Job:
    now = utcnow()
    return Job(
        id=new_job_id(),
        kind=JobKind.COMPOSITION,
        state=JobState.QUEUED,
        payload=doc(clip),
        created_at=now,
        updated_at=now,
        max_attempts=3,
    )


def states(srv: Server) -> dict[str, str]:
    """Every row's status, read from the SQLite file while the server is down."""
    with sqlite3.connect(srv.root / "data" / "vidsvc.db") as db:
        return dict(db.execute("SELECT id, status FROM compositions").fetchall())


async def test_sigkill_mid_render_then_restart_completes_every_job(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """C1 and C7: SIGKILL while the first of 5 jobs renders (the shim forked a grandchild).
    The shim dies with the server (PDEATHSIG); its grandchild, which no parent watches, is
    killed by the next start's orphan sweep. After the restart the rendering job runs again
    (attempts 2), the 4 queued ones start in created order, the row count stays 5 and no
    scratch file is left."""
    pidfile = tmp_path / "shim.pids"
    srv = single("fork;sleep=30,sleep=0.2", MAX_CONCURRENT_JOBS="1")
    srv.start()
    ids = [await post(http, srv.url, doc(tiny_clip)) for _ in range(5)]
    await until(lambda: len(shim_pids(pidfile, children=True)) >= 2, 20, "the fork")
    assert (await get(http, srv.url, ids[0]))["status"] == "processing"
    shim, grandchild = shim_pids(pidfile, children=True)[:2]
    srv.signal(signal.SIGKILL)
    srv.wait()
    await until(lambda: not is_alive(shim), 2, "the shim to die with its parent")
    assert set(states(srv).values()) == {"processing", "queued"} and len(states(srv)) == 5

    srv.start()
    await until(lambda: not is_alive(grandchild), 10, "the orphan sweep")
    final = await settle(http, srv.url, ids, 60)
    assert [final[j]["status"] for j in ids] == ["completed"] * 5, final
    assert [final[j]["attempts"] for j in ids] == [2, 1, 1, 1, 1]
    started = [final[j]["started_at"] for j in ids[1:]]
    assert started == sorted(started), "the rebuilt queue lost the created order"
    async with http.get(f"{srv.url}/api/v1/compositions?limit=100") as resp:
        assert len((await resp.json())["items"]) == 5
    assert await until_gone(pidfile, 5) == []
    assert leftovers(srv) == []


async def test_sigkill_of_the_renderer_hands_the_job_to_the_other(
    pair: Callable[..., Pair], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """C2a: SIGKILL the instance rendering a job; the peer reaps the lease and completes it."""
    a, b = pair(SLOW_FFMPEG_PLAN="sleep=20,sleep=0.2")
    a.start()
    b.start()
    job_id = await post(http, a.url, doc(tiny_clip))
    pidfile = tmp_path / "shim.pids"
    victim = await until(lambda: running_in(pidfile, a, b), 20, "a render")
    survivor = b if victim is a else a
    victim.signal(signal.SIGKILL)
    victim.wait()
    done = (await settle(http, survivor.url, [job_id], 30))[job_id]
    assert done["status"] == "completed", done
    meta = await metadata(http, survivor.url, job_id)
    assert meta["attempts"] == 2 and meta["instance"] == survivor.env["INSTANCE_ID"]
    assert await until_gone(pidfile, 5) == []


async def test_a_paused_instance_keeps_its_job(
    pair: Callable[..., Pair], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """C2b, the negative control: SIGSTOP for less than the lease, then SIGCONT; the peer never
    claims the job, which completes on the first attempt with one FFmpeg ever started."""
    a, b = pair(SLOW_FFMPEG_PLAN="sleep=5", LEASE_SECONDS="5")
    a.start()
    job_id = await post(http, a.url, doc(tiny_clip))
    pidfile = tmp_path / "shim.pids"
    await until(lambda: running_in(pidfile, a) is a, 20, "A to render")
    b.start()
    a.signal(signal.SIGSTOP)
    await asyncio.sleep(5 - 1 - 1)  # LEASE_SECONDS - HEARTBEAT_SECONDS - 1
    a.signal(signal.SIGCONT)
    done = (await settle(http, b.url, [job_id], 30))[job_id]
    assert done["status"] == "completed" and done["attempts"] == 1, done
    assert (await metadata(http, b.url, job_id))["instance"] == "a"
    assert len(shim_pids(pidfile)) == 1


async def test_a_zombie_worker_cannot_overwrite_the_winner(
    pair: Callable[..., Pair],
    http: aiohttp.ClientSession,
    tiny_clip: Path,
    tmp_path: Path,
    s3_bucket: S3Bucket,
) -> None:
    """C3: A is stopped mid-render past its lease; B reclaims and completes; when A wakes up its
    writes are fenced: the job keeps B's output, A leaves no object, process or scratch file."""
    a, b = pair(SLOW_FFMPEG_PLAN="sleep=6,sleep=0.2")
    a.start()
    b.start()
    job_id = await post(http, a.url, doc(tiny_clip))
    pidfile = tmp_path / "shim.pids"
    victim = await until(lambda: running_in(pidfile, a, b), 20, "a render")
    winner = b if victim is a else a
    victim.signal(signal.SIGSTOP)
    try:
        done = (await settle(http, winner.url, [job_id], 30))[job_id]
    finally:
        victim.signal(signal.SIGCONT)
    assert done["status"] == "completed" and done["attempts"] == 2, done
    keys_then = [k for k in s3_bucket.keys() if k.startswith(f"outputs/{job_id}/")]
    assert len(keys_then) == 2  # the video and the thumbnail of the winner's token
    assert await until_gone(pidfile, 15) == []  # the zombie's render was stopped or finished
    await until(lambda: leftovers(victim) == [], 10, "the zombie's scratch files to go")
    after = await get(http, victim.url, job_id)
    assert after["status"] == "completed"
    assert after["output_url"].split("/api/")[1] == done["output_url"].split("/api/")[1]
    meta = await metadata(http, victim.url, job_id)
    assert meta["instance"] == winner.env["INSTANCE_ID"] and meta["attempts"] == 2
    assert [k for k in s3_bucket.keys() if k.startswith(f"outputs/{job_id}/")] == keys_then
    assert s3_bucket.uploads() == []


async def test_a_wakeup_taken_by_a_dead_consumer_is_recovered(
    single: Callable[..., Server],
    http: aiohttp.ClientSession,
    tiny_clip: Path,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """C4: a consumer popped the id from the Redis backlog (BLMOVE into its processing list)
    and died before its claim; the row is still queued, so the job completes on attempt 1."""
    env = {"REDIS_URL": redis_url, "REDIS_PREFIX": redis_prefix}
    srv = single(**env)
    settings = Settings.from_env({**srv.env, "INSTANCE_ID": "dead-consumer"})
    async with open_stores(settings) as stores:
        job = await stores.jobs.create(new_job(tiny_clip))
        await stores.backlog.push(job.id)
        assert await stores.backlog.pop(1.0) == job.id  # and never claimed nor acked
        assert await stores.backlog.ids() == []
    srv.start()
    done = (await settle(http, srv.url, [job.id], 30))[job.id]
    assert done["status"] == "completed" and done["attempts"] == 1, done


async def test_a_crash_after_the_upload_leaves_one_output(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path
) -> None:
    """C5: attempt 1 stored its output and died before committing. Attempt 2 completes under its
    own token's key, and attempt 1's orphaned objects are removed: one output per job."""
    srv = single()
    settings = Settings.from_env(srv.env)
    async with open_stores(settings) as stores:
        job = await stores.jobs.create(new_job(tiny_clip))
        claimed = await stores.jobs.claim(job.id, owner="dead-instance", lease_s=3)
        assert claimed is not None and claimed.lease is not None
        first = claimed.lease.token
        for ext in ("mp4", "jpg"):
            await stores.blobs.put_file(
                f"outputs/{job.id}/{first}.{ext}", tiny_clip, content_type="video/mp4"
            )
        await stores.jobs.annotate(
            job.id, {"staged_outputs": [f"outputs/{job.id}/{first}.{e}" for e in ("mp4", "jpg")]}
        )
    srv.start()
    done = (await settle(http, srv.url, [job.id], 30))[job.id]
    assert done["status"] == "completed" and done["attempts"] == 2, done
    stored = sorted(p.name for p in (srv.root / "data" / "blobs" / "outputs" / job.id).iterdir())
    assert len(stored) == 2 and first not in "".join(stored), stored


async def test_a_poison_job_fails_without_looping(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path
) -> None:
    """C6, FFmpeg crashing: a SIGSEGV is a render failure, final at once (PROCESSING_FAILED,
    attempts 1 ≤ MAX_ATTEMPTS, never queued again: a crash on the same input repeats); the job
    behind it completes."""
    srv = single("segv,sleep=0.1", MAX_CONCURRENT_JOBS="1")
    srv.start()
    ids = [await post(http, srv.url, doc(tiny_clip)) for _ in range(2)]
    final = await settle(http, srv.url, ids, 30)
    poisoned, other = final[ids[0]], final[ids[1]]
    assert poisoned["status"] == "failed" and poisoned["error"]["code"] == "PROCESSING_FAILED"
    assert poisoned["attempts"] == 1
    assert other["status"] == "completed"
    await asyncio.sleep(1.5)  # a reaper pass or two: nothing puts it back
    assert (await get(http, srv.url, ids[0]))["status"] == "failed"


async def test_a_job_that_kills_the_service_stops_after_max_attempts(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path
) -> None:
    """C6, the OOM variant: each attempt SIGKILLs vidsvc itself. Attempts are counted at claim,
    so the service dies MAX_ATTEMPTS (3) times, then the job fails PROCESSING_FAILED and the
    service stays up; a job accepted alongside completes."""
    srv = single("sleep=0.1,killparent", MAX_CONCURRENT_JOBS="1")
    srv.start()
    other = await post(http, srv.url, doc(tiny_clip))  # claimed first, renders normally
    poison = await post(http, srv.url, doc(tiny_clip))
    for _ in range(3):  # each claim of the poison job kills the service; restart it
        srv.wait(timeout=30)
        srv.start()
    final = await settle(http, srv.url, [other, poison], 20)
    await asyncio.sleep(1.5)  # reaper passes: no fourth claim, no fourth death
    assert final[other]["status"] == "completed"
    assert final[poison]["status"] == "failed" and final[poison]["attempts"] == 3
    assert final[poison]["error"]["code"] == "PROCESSING_FAILED"
    assert srv.proc is not None and srv.proc.poll() is None


async def test_sigterm_lets_a_running_render_finish_within_the_grace(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """C8: SIGTERM with 2 short renders and 1 queued job: the WebSockets get 1001, new work is
    refused, the 2 renders complete on attempt 1, the queued one is not started (it stays
    queued for the next start), the exit code is 0 and nothing is left behind."""
    srv = single("sleep=2", MAX_CONCURRENT_JOBS="2", SHUTDOWN_GRACE="10")
    srv.start()
    ids = [await post(http, srv.url, doc(tiny_clip)) for _ in range(3)]
    pidfile = tmp_path / "shim.pids"
    await until(lambda: len(live_shims(pidfile)) == 2, 20, "two renders")
    sockets = [await http.ws_connect(f"{srv.url}/ws/compositions/{ids[2]}") for _ in range(3)]
    srv.signal(signal.SIGTERM)

    async def close_code(ws: aiohttp.ClientWebSocketResponse) -> int | None:
        async for _ in ws:  # reading answers the server's close (it waits 1 s for the answer)
            pass
        return ws.close_code

    codes = await asyncio.gather(*(close_code(ws) for ws in sockets))  # all read at once
    assert codes == [aiohttp.WSCloseCode.GOING_AWAY] * 3
    fresh = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=fresh) as other:
        try:
            async with other.post(f"{srv.url}/api/v1/compositions", json=doc(tiny_clip)) as r:
                assert r.status == 503
        except aiohttp.ClientConnectionError:
            pass  # the listener is already closed
    assert srv.wait(30) == 0
    rows = states(srv)
    assert [rows[j] for j in ids] == ["completed", "completed", "queued"], rows
    assert len(rows) == 3
    assert len(shim_pids(pidfile)) == 2
    assert live_shims(pidfile) == [] and leftovers(srv) == []
