"""Composition webhooks are durable and sent once (docs/reliability.md D11): real `vidsvc serve`
processes, FFmpeg through the shim (a real one-second render), a real receiver in the test.

- SIGKILL mid-retry: the event waits in the database; the restarted instance delivers it once,
  with the event id of the failed attempts.
- Two instances on one PostgreSQL (and Redis, S3): each event is claimed by one instance at a
  time, so every receiver sees one attempt per try and exactly one delivery per event, whichever
  instance rendered the job or retried it.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.support.fakes.faults import Pair, doc, pair, post, settle, single, tiny_clip
from tests.support.server import Server
from tests.support.webhook_sink import SECRET, MakeSink, sink, verify

__all__ = ["pair", "single", "sink", "tiny_clip"]  # fixtures
pytestmark = [pytest.mark.C, pytest.mark.D, pytest.mark.ffmpeg]

META = {"project": "p-42"}


async def test_a_sigkill_mid_retry_delivers_once_after_the_restart(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path, sink: MakeSink
) -> None:
    rec = await sink(then=500)
    env = {"ALLOWED_CALLBACK_HOSTS": rec.host, "CALLBACK_SECRET": SECRET}
    srv = single("sleep=0.3", CALLBACK_MAX_ATTEMPTS="20", **env)
    srv.start()
    document = doc(tiny_clip, callback_url=rec.url(), metadata=META)
    job_id = await post(http, srv.url, document)
    assert (await settle(http, srv.url, [job_id], 60))[job_id]["status"] == "completed"
    async with asyncio.timeout(30):  # backoff 1 s, then 2 s
        while len(rec.hits) < 2:
            await asyncio.sleep(0.05)
    srv.signal(signal.SIGKILL)
    srv.wait()
    failed = len(rec.hits)
    rec.then = 200
    srv.start()
    await rec.until(1, timeout=60)
    await asyncio.sleep(2.5)  # past a poll and a backoff: nothing more comes
    [delivered] = rec.delivered()
    verify(delivered)
    assert len(rec.hits) == failed + 1
    assert {h.event_id for h in rec.hits} == {delivered.body["event_id"]}
    body = delivered.body
    assert body["composition_id"] == job_id and body["status"] == "completed"
    assert body["metadata"] == META
    assert body["download_url"] == f"{srv.url}/api/v1/compositions/{job_id}/download"


async def test_two_instances_on_postgresql_deliver_each_event_once(
    pair: Callable[..., Pair], http: aiohttp.ClientSession, tiny_clip: Path, sink: MakeSink
) -> None:
    rec = await sink()
    rec.per_event = [500]  # every event fails once: a retry either instance may claim
    a, b = pair(ALLOWED_CALLBACK_HOSTS=rec.host, CALLBACK_SECRET=SECRET)
    a.start()
    b.start()
    servers = [a, b] * 3
    ids = [
        await post(http, srv.url, doc(tiny_clip, callback_url=rec.url(), metadata={"n": n}))
        for n, srv in enumerate(servers)
    ]
    final = await settle(http, a.url, ids, 90)
    assert {final[j]["status"] for j in ids} == {"completed"}
    await rec.until(len(ids), timeout=60)
    await asyncio.sleep(3)  # both keep polling: a second delivery would show now
    for hit in rec.hits:
        verify(hit)
        assert hit.event_id == hit.body["event_id"]
    per_job = Counter(h.body["composition_id"] for h in rec.hits)
    delivered = Counter(h.body["composition_id"] for h in rec.delivered())
    assert per_job == {j: 2 for j in ids}  # one failed attempt, one delivery, no duplicate
    assert delivered == {j: 1 for j in ids}
    assert len({h.event_id for h in rec.hits}) == len(ids)
    for n, job_id in enumerate(ids):
        [body] = [h.body for h in rec.delivered() if h.body["composition_id"] == job_id]
        assert body["metadata"] == {"n": n}
        async with http.get(body["output_url"]) as resp:  # presigned by the bucket
            assert resp.status == 200 and len(await resp.read()) > 1000
