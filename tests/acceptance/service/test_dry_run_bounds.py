"""Dry runs are bounded: at most MAX_CONCURRENT_JOBS at once; one that gets no turn within
dryrun.WAIT_S is 503 QUEUE_FULL with Retry-After, and a turn is given back however a dry run
ends. A download that stalls (tests/support/byte_server.py `/sized/`: headers, then no body)
holds the turn until DOWNLOAD_TIMEOUT."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.support.byte_server import start
from tests.support.http_app import assert_envelope
from tests.support.media import make_video
from tests.support.real_app import POST, App, clips, make_app
from vidsvc.work.compositions import dryrun

__all__ = ["clips", "make_app"]
pytestmark = pytest.mark.ffmpeg
DRY = POST + "?dry_run=true"


async def test_beyond_the_bound_a_dry_run_is_queue_full(
    make_app: Callable[..., Awaitable[App]],
    clips: Path,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await start(aiohttp_server)
    monkeypatch.setattr(dryrun, "WAIT_S", 0.5)
    app = await make_app(
        fake="exit:1",
        ALLOWED_URL_HOSTS=server.host,
        MAX_CONCURRENT_JOBS="1",
        DOWNLOAD_TIMEOUT="3",
    )
    good = {"clips": [{"url": make_video(clips / "one.mp4", seconds=1).as_uri()}]}
    stalled = {"clips": [{"url": server.url("/sized/100000/a.mp4"), "trim_end": 1}]}
    held = asyncio.create_task(app.client.post(DRY, json=stalled))
    async with asyncio.timeout(10):
        while not server.requests:  # the first dry run is downloading: it has the one turn
            await asyncio.sleep(0.02)

    resp = await app.client.post(DRY, json=good)
    assert resp.status == 503 and resp.headers["Retry-After"] == str(dryrun.RETRY_AFTER_S)
    assert_envelope(await resp.json(), "QUEUE_FULL")

    first = await held  # the download timed out: the first dry run fails and frees its turn
    assert first.status == 400
    assert_envelope(await first.json(), "INPUT_UNAVAILABLE")
    resp = await app.client.post(DRY, json=good)
    assert resp.status == 200, await resp.json()
    assert await app.row_count() == 0
