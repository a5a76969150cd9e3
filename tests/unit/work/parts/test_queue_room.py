"""MAX_QUEUED_JOBS counts what clients queued: a split render's own part rows do not fill it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.jobs import make_job
from tests.support.lifecycle import memory_stores
from vidsvc.config import Settings
from vidsvc.errors import QueueFull
from vidsvc.jobs import JobKind
from vidsvc.runner.service import Runner
from vidsvc.work.kinds import handlers

DOC = {"clips": [{"url": "file:///tmp/clip.mp4"}]}


async def test_parts_do_not_count_against_the_queue() -> None:
    stores = memory_stores()
    settings = Settings(max_queued_jobs=2, allowed_local_dirs=(Path("/tmp"),))
    runner = Runner(settings, stores, handlers())
    for n in range(5):  # a split's rows, queued
        await stores.jobs.create(make_job(n, id=f"part_x_1_v{n}", kind=JobKind.PART))
    await runner.submit(JobKind.COMPOSITION, DOC)
    await runner.submit(JobKind.COMPOSITION, DOC)
    with pytest.raises(QueueFull):  # two compositions: the queue is full for clients
        await runner.submit(JobKind.COMPOSITION, DOC)
