"""A 202 means the job reaches a terminal state, whatever happens to the process afterwards.

These drive a real `vidsvc serve` process (SQLite, local disk, real FFmpeg): SIGKILL mid-render
and restart, SIGTERM drains, and the concurrency cap observed on live FFmpeg processes.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.server import Server, composition, ffmpeg_pids, wait_for

pytestmark = pytest.mark.ffmpeg


def terminal(body: dict[str, Any]) -> bool:
    return body.get("status") in ("completed", "failed", "cancelled")


async def post(http: aiohttp.ClientSession, srv: Server, doc: dict[str, Any]) -> str:
    async with http.post(f"{srv.url}/api/v1/compositions", json=doc) as resp:
        body = await resp.json()
        assert resp.status == 202, body
        job_id: str = body["composition_id"]
        return job_id


def leftovers(srv: Server) -> list[Path]:
    return list((srv.root / "tmp" / "jobs").glob("*/*"))  # jobs/<instance>/<workspace>


async def test_sigkill_mid_render_then_restart_completes_every_job(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path
) -> None:
    srv = server(MAX_CONCURRENT_JOBS="1")
    srv.start()
    ids = [await post(http, srv, composition(long_clip)) for _ in range(3)]
    first = f"{srv.url}/api/v1/compositions/{ids[0]}"
    await wait_for(http, first, lambda b: b["progress"]["stage"] == "encoding", timeout=30)
    assert ffmpeg_pids(srv.root), "a render should be running"
    srv.signal(signal.SIGKILL)
    srv.wait()
    deadline = time.monotonic() + 5  # PR_SET_PDEATHSIG: FFmpeg dies with its parent
    while ffmpeg_pids(srv.root) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not ffmpeg_pids(srv.root), "an FFmpeg outlived the killed server"

    srv.start()
    for job_id in ids:
        body = await wait_for(http, f"{srv.url}/api/v1/compositions/{job_id}", terminal, 90)
        assert body["status"] == "completed", body
    async with http.get(f"{first}/metadata") as resp:
        assert (await resp.json())["attempts"] == 2
    assert leftovers(srv) == []


async def test_sigterm_lets_a_running_render_finish_within_the_grace(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path
) -> None:
    srv = server(MAX_CONCURRENT_JOBS="1", SHUTDOWN_GRACE="60")
    srv.start()
    job_id = await post(http, srv, composition(long_clip))
    url = f"{srv.url}/api/v1/compositions/{job_id}"
    await wait_for(http, url, lambda b: b["status"] == "processing", timeout=30)
    srv.signal(signal.SIGTERM)
    assert srv.wait(90) == 0
    assert not ffmpeg_pids(srv.root)
    srv.start()
    body = await wait_for(http, url, terminal, 10)
    assert body["status"] == "completed"
    async with http.get(f"{url}/metadata") as resp:
        assert (await resp.json())["attempts"] == 1  # it finished before the exit


async def test_sigterm_past_the_grace_requeues_and_the_next_start_completes(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path
) -> None:
    srv = server(MAX_CONCURRENT_JOBS="1", SHUTDOWN_GRACE="0.5", KILL_GRACE="1")
    srv.start()
    job_id = await post(http, srv, composition(long_clip))
    url = f"{srv.url}/api/v1/compositions/{job_id}"
    await wait_for(http, url, lambda b: b["progress"]["stage"] == "encoding", timeout=30)
    srv.signal(signal.SIGTERM)
    assert srv.wait(30) == 0
    assert not ffmpeg_pids(srv.root)
    assert leftovers(srv) == []
    srv.start()
    body = await wait_for(http, url, terminal, 90)
    assert body["status"] == "completed"


async def test_never_more_than_max_concurrent_ffmpeg(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path
) -> None:
    srv = server(MAX_CONCURRENT_JOBS="2")
    srv.start()
    doc = composition(long_clip, preset="ultrafast", resolution="360p")
    ids = [await post(http, srv, doc) for _ in range(5)]
    most = 0
    pending = set(ids)
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        most = max(most, len(ffmpeg_pids(srv.root)))
        for job_id in list(pending):
            async with http.get(f"{srv.url}/api/v1/compositions/{job_id}") as resp:
                if terminal(await resp.json()):
                    pending.discard(job_id)
        await asyncio.sleep(0.05)
    assert not pending
    assert most == 2
