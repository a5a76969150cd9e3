"""A 202 means the job reaches a terminal state, whatever happens to the process afterwards.

These drive a real `vidsvc serve` process (SQLite, local disk, real FFmpeg). SIGKILL and restart,
the SIGTERM drain and the concurrency cap moved to tests/acceptance/reliability (C1, C8, L1).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.server import Server, composition, ffmpeg_pids, wait_for
from vidsvc.client import AsyncClient

pytestmark = pytest.mark.ffmpeg


def terminal(body: dict[str, Any]) -> bool:
    return body.get("status") in ("completed", "failed", "cancelled")


async def post(http: aiohttp.ClientSession, srv: Server, doc: dict[str, Any]) -> str:
    accepted = await AsyncClient(srv.url, session=http).submit(doc)  # raises unless 202
    return accepted.composition_id


def leftovers(srv: Server) -> list[Path]:
    return list((srv.root / "tmp" / "jobs").glob("*/*"))  # jobs/<instance>/<workspace>


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
