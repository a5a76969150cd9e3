"""L5's cause: a job's progress writer, stopped by a cancel at the end of every render, must stop
even when the cancel lands in a Redis PUBLISH (redis-py's asyncio.wait_for dropped it on Python
3.11, and the job then waited on the writer: for ever before CLOSE_TIMEOUT, 10 s since).

In process, on a real Redis (tests.support.redis_server) and the in-memory job store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from tests.support.jobs import make_job
from vidsvc.jobs import Job, Progress
from vidsvc.runner import progress_writer
from vidsvc.runner.progress_writer import ProgressWriter
from vidsvc.store import Stores
from vidsvc.store.inprocess import MemoryBacklog
from vidsvc.store.memory import MemoryJobStore
from vidsvc.store.memory_blobs import MemoryBlobStore
from vidsvc.store.redis import RedisPubSub

pytestmark = pytest.mark.L


@pytest.fixture
async def stores(redis_url: str, redis_prefix: str) -> AsyncIterator[Stores]:
    pubsub = await RedisPubSub.open(redis_url, prefix=redis_prefix)
    yield Stores(
        jobs=MemoryJobStore(), blobs=MemoryBlobStore(), pubsub=pubsub, backlog=MemoryBacklog()
    )
    await pubsub.aclose()


async def test_a_writer_closed_during_a_publish_stops_at_once(
    stores: Stores, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A progress write, then close() after 0-15 loop turns, 5 times each: the flush never
    waits out CLOSE_TIMEOUT (0.5 s here) and no writer is left running (before the fix, about
    one close in three waited it out and left its writer behind)."""
    monkeypatch.setattr(progress_writer, "CLOSE_TIMEOUT", 0.5)
    caplog.set_level(logging.WARNING, logger="vidsvc.runner.progress_writer")
    created = await stores.jobs.create(make_job())
    job = await stores.jobs.claim(created.id, owner="w", lease_s=60)
    assert isinstance(job, Job)
    for turns in [t for t in range(16) for _ in range(5)]:
        writer = ProgressWriter(stores, job, f"job:{job.id}")
        writer.update(Progress(stage="uploading", percentage=95.0, message="stored the video"))
        for _ in range(turns):
            await asyncio.sleep(0)
        await writer.close()
    left = [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("progress:")]
    timed_out = [r for r in caplog.records if r.getMessage() == "progress flush timed out"]
    assert not left and not timed_out, (len(left), len(timed_out))
