"""ProgressWriter: the encode's ETA and speed ride on its progress rows and events, and only
while encoding."""

from __future__ import annotations

from tests.support.jobs import make_job
from vidsvc.jobs import JobEvent, Progress
from vidsvc.runner.progress_writer import ProgressWriter
from vidsvc.store import Stores
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryJobStore
from vidsvc.store.memory_blobs import MemoryBlobStore


async def test_eta_and_speed_are_stored_published_and_cleared_after_encoding() -> None:
    jobs, pubsub = MemoryJobStore(), MemoryPubSub()
    stores = Stores(jobs=jobs, blobs=MemoryBlobStore(), pubsub=pubsub, backlog=MemoryBacklog())
    job = await jobs.create(make_job())
    claimed = await jobs.claim(job.id, owner="w", lease_s=60)
    assert claimed is not None
    async with pubsub.subscribe("c") as messages:
        writer = ProgressWriter(stores, claimed, "c")
        writer.rate(12.5, 1.6)
        writer.update("encoding", 40.0, "encoding")
        await writer.close()
        row = await jobs.get(job.id)
        assert row is not None and row.progress == Progress(
            stage="encoding", percentage=40.0, message="encoding", eta_seconds=12.5, speed=1.6
        )
        event = JobEvent.from_json(await anext(messages))
        assert (event.progress.eta_seconds, event.progress.speed) == (12.5, 1.6)
        writer = ProgressWriter(stores, row, "c")
        writer.rate(1.0, 2.0)
        writer.update("uploading", 90.0, "storing")  # the encode is over: no ETA of it
        await writer.close()
        row = await jobs.get(job.id)
        assert row is not None and (row.progress.eta_seconds, row.progress.speed) == (None, None)
