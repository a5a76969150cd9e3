"""RELIABILITY.md group L (load and backpressure): L1–L3, L5, L6, L8, L9. L4 and L7 are in the
limits suite.

L1–L3, L5 and L8 drive real `vidsvc serve` processes whose FFmpeg is the shim (slow_ffmpeg.py:
the fault, then the real FFmpeg on a one-second clip); L6 and L9 concern the WebSocket layer
alone and run in process over the HTTP tests' FakeRunner, which publishes at any rate asked.
No wall-clock bound is asserted where the machine's load decides it (L3's latencies are
printed; what is asserted is that the loop kept answering while FFmpeg flooded its pipe).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from tests.support.fakes.faults import (
    Pair,
    doc,
    get,
    live_shims,
    metadata,
    pair,
    post,
    settle,
    single,
    tiny_clip,
    until,
)
from tests.support.http_app import FakeRunner, receive_all, submit, wait_subscribed
from tests.support.server import Server

__all__ = ["pair", "single", "tiny_clip"]
pytestmark = pytest.mark.L


async def processing_count(http: aiohttp.ClientSession, base: str) -> int:
    async with http.get(f"{base}/api/v1/compositions?status=processing&limit=100") as resp:
        return len((await resp.json())["items"])


@pytest.mark.ffmpeg
async def test_never_more_than_max_concurrent_ffmpeg(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """L1: 10 POSTs at once with MAX_CONCURRENT_JOBS=2: all accepted; sampled every 50 ms,
    never more than 2 live FFmpeg processes nor 2 jobs processing; all 10 complete."""
    srv = single("sleep=0.4", MAX_CONCURRENT_JOBS="2", MAX_QUEUED_JOBS="20")
    srv.start()
    ids = await asyncio.gather(*(post(http, srv.url, doc(tiny_clip)) for _ in range(10)))
    pidfile = tmp_path / "shim.pids"
    most_ffmpeg = most_processing = 0
    pending = set(ids)
    deadline = time.monotonic() + 90
    while pending and time.monotonic() < deadline:
        most_ffmpeg = max(most_ffmpeg, len(live_shims(pidfile)))
        most_processing = max(most_processing, await processing_count(http, srv.url))
        for job_id in list(pending):
            if (await get(http, srv.url, job_id))["status"] in ("completed", "failed"):
                pending.discard(job_id)
        await asyncio.sleep(0.05)
    assert not pending
    assert most_ffmpeg == 2 and most_processing == 2
    final = await settle(http, srv.url, ids, 5)
    assert {body["status"] for body in final.values()} == {"completed"}


@pytest.mark.ffmpeg
async def test_a_full_backlog_rejects_cleanly(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """L2: MAX_CONCURRENT_JOBS=1, MAX_QUEUED_JOBS=4: with one job rendering, of 9 more POSTs 4
    are accepted and 5 answer 503 QUEUE_FULL with Retry-After, leaving no row; all 5 accepted
    jobs complete."""
    srv = single("sleep=2,sleep=0.1", MAX_CONCURRENT_JOBS="1", MAX_QUEUED_JOBS="4")
    srv.start()
    first = await post(http, srv.url, doc(tiny_clip))
    await until(lambda: live_shims(tmp_path / "shim.pids"), 20, "the first render")
    accepted, refused = [first], []
    for _ in range(9):
        async with http.post(f"{srv.url}/api/v1/compositions", json=doc(tiny_clip)) as resp:
            body = await resp.json()
            if resp.status == 202:
                accepted.append(body["composition_id"])
            else:
                assert resp.status == 503 and body["error"]["code"] == "QUEUE_FULL", body
                assert int(resp.headers["Retry-After"]) > 0
                refused.append(body)
    assert len(accepted) == 5 and len(refused) == 5
    async with http.get(f"{srv.url}/api/v1/compositions?limit=100") as resp:
        assert sorted(j["composition_id"] for j in (await resp.json())["items"]) == sorted(
            accepted
        )
    final = await settle(http, srv.url, accepted, 60)
    assert {body["status"] for body in final.values()} == {"completed"}


@pytest.mark.ffmpeg
async def test_the_loop_answers_while_ffmpeg_floods_stderr(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """L3: two renders each writing 50 MiB of stderr (one then renders, one then fails): 200
    sequential GETs (/health and the job) all answer, many while the floods run; no pipe
    deadlock (both jobs end); the failed job keeps at most 64 KiB of the log, its last line
    included."""
    plan = "stderr=50;sleep=1,stderr=50;sleep=1;exit=1"
    srv = single(plan, MAX_CONCURRENT_JOBS="2")
    srv.start()
    ids = [await post(http, srv.url, doc(tiny_clip)) for _ in range(2)]
    pidfile = tmp_path / "shim.pids"
    await until(lambda: len(live_shims(pidfile)) == 2, 20, "two renders")
    latencies, during = [], 0
    for i in range(200):
        url = f"{srv.url}/health" if i % 2 else f"{srv.url}/api/v1/compositions/{ids[i % 2]}"
        started = time.perf_counter()
        async with http.get(url) as resp:
            assert resp.status == 200
            await resp.read()
        latencies.append(time.perf_counter() - started)
        during += bool(live_shims(pidfile))
    latencies.sort()
    print(f"L3: p50 {latencies[99] * 1000:.1f} ms, p99 {latencies[197] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms; {during} of 200 while FFmpeg ran")  # fmt: skip
    assert during >= 20
    final = await settle(http, srv.url, ids, 60)
    states = sorted(body["status"] for body in final.values())
    assert states == ["completed", "failed"], final
    failed = next(body for body in final.values() if body["status"] == "failed")
    assert failed["error"]["code"] == "PROCESSING_FAILED"
    tail = failed["error"]["details"]["stderr_tail"]
    assert len(tail.encode()) <= 64 * 1024 and "last line of the shim's log" in tail


@pytest.mark.ffmpeg
async def test_jobs_spread_and_a_websocket_on_b_streams_a_job_rendered_on_a(
    pair: Callable[..., Pair], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    """L5 (and L8's cross-instance stream): 6 jobs over two instances with one slot each on one
    Redis backlog: never more than 2 renders at once, each instance runs at least 2 of them,
    each job is claimed once; a WebSocket on B streams a job that A renders."""
    a, b = pair(SLOW_FFMPEG_PLAN="sleep=1")
    a.start()
    first = await post(http, a.url, doc(tiny_clip))  # only A is up: A renders it
    b.start()
    on_b = f"{b.url.replace('http', 'ws')}/ws/compositions/{first}"
    async with http.ws_connect(on_b) as ws:
        watching = asyncio.ensure_future(receive_all(ws, timeout=60))
        others = [await post(http, (a, b)[i % 2].url, doc(tiny_clip)) for i in range(5)]
        pidfile = tmp_path / "shim.pids"
        most = 0
        pending = set(others)
        deadline = time.monotonic() + 60
        while (pending or not watching.done()) and time.monotonic() < deadline:
            most = max(most, len(live_shims(pidfile)))
            for job_id in list(pending):
                if (await get(http, a.url, job_id))["status"] == "completed":
                    pending.discard(job_id)
            await asyncio.sleep(0.05)
        messages = watching.result()
    assert messages[0]["type"] == "status" and messages[-1]["type"] == "completed", messages
    ids = [first, *others]
    final = await settle(http, a.url, ids, 30)  # generous: a loaded CI machine is slow
    assert {body["status"] for body in final.values()} == {"completed"}
    assert {body["attempts"] for body in final.values()} == {1}
    ran_on = [(await metadata(http, b.url, j))["instance"] for j in ids]
    assert ran_on[0] == "a" and ran_on.count("a") >= 2 and ran_on.count("b") >= 2, ran_on
    assert most <= 2


@pytest.mark.ffmpeg
async def test_websocket_clients_resume_across_instances(
    pair: Callable[..., Pair], http: aiohttp.ClientSession, tiny_clip: Path
) -> None:
    """L8: 40 WebSocket clients on one job, split over both instances; midway 10 of them drop
    and reconnect 1 s later to the other instance. Every connection starts with a status
    snapshot, then only newer seqs; each client (deduplicating by seq) sees a strictly
    increasing seq and exactly one terminal message, `completed`."""
    a, b = pair(SLOW_FFMPEG_PLAN="sleep=3", WS_MAX_CONN_PER_IP="100")
    a.start()
    b.start()
    job_id = await post(http, a.url, doc(tiny_clip))
    urls = [f"{s.url.replace('http', 'ws')}/ws/compositions/{job_id}" for s in (a, b)]

    async def connection(url: str, seen: list[int], leave_after: int | None) -> str | None:
        async with http.ws_connect(url) as ws:
            snapshot = await ws.receive_json(timeout=20)
            assert snapshot["type"] == "status"
            last = snapshot["data"]["seq"]
            seen.append(last)
            async for msg in ws:
                assert msg.type == WSMsgType.TEXT
                body = msg.json()
                if body["type"] != "progress":
                    return str(body["type"])
                assert body["data"]["seq"] > last
                last = body["data"]["seq"]
                seen.append(last)
                if leave_after is not None and len(seen) >= leave_after:
                    return None
        return "closed"

    async def client(n: int) -> tuple[list[int], list[str]]:
        seen: list[int] = []
        terminals: list[str] = []
        leave = 3 if n % 4 == 0 else None
        end = await connection(urls[n % 2], seen, leave)
        if end is None:
            await asyncio.sleep(1)
            end = await connection(urls[(n + 1) % 2], seen, None)
        terminals.append(str(end))
        return seen, terminals

    results = await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(40))), 60)
    for seen, terminals in results:
        deduped = sorted(set(seen))
        assert seen == sorted(seen) and terminals == ["completed"], (seen, terminals)
        assert len(deduped) >= 2
    assert (await settle(http, a.url, [job_id], 5))[job_id]["status"] == "completed"


def _stuck_client(host: str, port: int, path: str) -> socket.socket:
    """Completes the handshake, then never reads again (RELIABILITY.md C.4)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_client_that_never_reads_does_not_delay_another(
    app_client: Any, fake: FakeRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """L6: a client that never reads (SO_RCVBUF 4096) and one that reads, ~8 MB of progress:
    the reader gets every message in order and the terminal one promptly; the stuck one's
    queue never exceeds WS_SEND_QUEUE_MAX (its progress is coalesced)."""
    caplog.set_level(logging.DEBUG, logger="vidsvc.http.events")
    client = await app_client(WS_SEND_QUEUE_MAX="16")
    job_id = (await submit(client))["composition_id"]
    path = f"/ws/compositions/{job_id}"
    stuck = await asyncio.to_thread(_stuck_client, client.host, client.port, path)
    try:
        reader = await client.ws_connect(path)
        await reader.receive_json(timeout=5)
        await wait_subscribed(fake, job_id, count=2)
        received: list[dict[str, Any]] = []

        async def read() -> None:
            received.extend(await receive_all(reader, timeout=30))

        reading = asyncio.create_task(read())
        message = "x" * 1024  # ~8 MB in all: far beyond what the kernel buffers for `stuck`
        started = time.monotonic()
        for i in range(8000):
            fake.advance(job_id, percentage=i / 100, message=message)
            if i % 50 == 0:
                await asyncio.sleep(0)  # let the connections' tasks run, as a real feed would
        fake.complete(job_id, tmp_path / "v.mp4", tmp_path / "t.jpg")
        published = time.monotonic()
        await asyncio.wait_for(reading, 10)
        delivered = time.monotonic()
    finally:
        stuck.close()
    async with asyncio.timeout(5):  # the stuck connection's handler ends once its peer is gone
        while not [r for r in caplog.records if r.getMessage() == "websocket closed"][1:]:
            await asyncio.sleep(0.01)
    closed = [r for r in caplog.records if r.getMessage() == "websocket closed"]
    assert max(getattr(r, "dropped", 0) for r in closed) > 0, "progress was coalesced"
    assert max(getattr(r, "unsent", 0) for r in closed) <= 16, "never over WS_SEND_QUEUE_MAX"
    assert published - started < 10, "publishing must never wait on a client"
    assert delivered - published < 2, "the reading client got its terminal message promptly"
    assert received[-1]["type"] == "completed"
    percentages = [m["data"]["percentage"] for m in received if m["type"] == "progress"]
    assert percentages == sorted(percentages) and percentages  # coalesced, never reordered


async def test_the_heartbeat_evicts_a_client_that_never_answers(
    app_client: Any, fake: FakeRunner
) -> None:
    """L9: WS_HEARTBEAT=0.5: a client that never answers pings is closed within 2 × heartbeat
    + 1 s, while a client that only receives (its library answers the pings) stays."""
    client = await app_client(WS_HEARTBEAT="0.5")
    job_id = (await submit(client))["composition_id"]
    path = f"/ws/compositions/{job_id}"
    healthy = await client.ws_connect(path)  # autoping: answers pings while it receives
    await healthy.receive_json(timeout=5)
    listening = asyncio.create_task(healthy.receive(timeout=30))
    await wait_subscribed(fake, job_id)
    stuck = await asyncio.to_thread(_stuck_client, client.host, client.port, path)
    try:
        await wait_subscribed(fake, job_id, count=2)
        started = time.monotonic()
        async with asyncio.timeout(5):
            while fake.subscribers(job_id) > 1:
                await asyncio.sleep(0.02)
        assert time.monotonic() - started < 2 * 0.5 + 1
        await asyncio.sleep(4 * 0.5)  # more heartbeats: the receiving client is kept
        assert fake.subscribers(job_id) == 1 and not listening.done()
    finally:
        stuck.close()
        listening.cancel()
        await healthy.close()
