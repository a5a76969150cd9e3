"""Storage that stays down: the job is retried later (its lease lapses), never lost; the last
allowed attempt fails with STORAGE_ERROR. Real render, in-memory state, a blob store that fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from vidsvc.config import Settings
from vidsvc.errors import StorageError
from vidsvc.jobs import Job, JobKind, JobState, new_job_id, utcnow
from vidsvc.runner import execute
from vidsvc.store import Stores
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryBlobStore, MemoryJobStore

pytestmark = pytest.mark.ffmpeg


class DownBlobStore(MemoryBlobStore):
    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        raise StorageError("S3 is unavailable")


async def run_once(stores: Stores, settings: Settings, job_id: str) -> Job | None:
    job = await stores.jobs.claim(job_id, owner="w", lease_s=30)
    assert job is not None
    deps = execute.Deps(settings=settings, stores=stores, instance_id="w")
    return await execute.execute(job, deps, execute.Control())


async def test_storage_down_retries_then_fails(
    make_settings: Callable[..., Settings],
    media: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(execute, "RETRIES", 1)
    settings = make_settings()
    stores = Stores(
        jobs=MemoryJobStore(),
        blobs=DownBlobStore(),
        pubsub=MemoryPubSub(),
        backlog=MemoryBacklog(),
    )
    now = utcnow()
    doc = {"clips": [{"url": media["a"].as_uri(), "trim_end": 0.5}],
           "output": {"resolution": "180p", "fps": 10}}  # fmt: skip
    job = Job(id=new_job_id(), kind=JobKind.COMPOSITION, state=JobState.QUEUED, payload=doc,
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
