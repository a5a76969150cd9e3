"""WorkerPool: claims from the backlog, never more than MAX_CONCURRENT_JOBS at once, counts
each job in its Load from claim to end, stops jobs cancelled elsewhere, hands jobs back."""

from __future__ import annotations

import asyncio

from tests.support.jobs import make_job
from tests.support.lifecycle import Scripted, deps, memory_stores
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.runner.pool import WorkerPool
from vidsvc.store import Stores


async def _queue(stores: Stores, count: int) -> list[Job]:
    jobs = [await stores.jobs.create(make_job(n)) for n in range(count)]
    for job in jobs:
        await stores.backlog.push(job.id)
    return jobs


async def _states(stores: Stores, jobs: list[Job]) -> list[JobState]:
    rows = [await stores.jobs.get(j.id) for j in jobs]
    return [r.state for r in rows if r is not None]


async def _until(check: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.005)


async def test_at_most_max_concurrent_jobs_run_and_each_counts_in_the_load() -> None:
    stores = memory_stores()
    handler = Scripted()
    handler.gate.clear()
    pool = WorkerPool(deps(stores, max_concurrent_jobs=2), {JobKind.COMPOSITION: handler})
    jobs = await _queue(stores, 5)
    pool.start()
    try:
        await _until(lambda: len(handler.ran) == 2)
        await asyncio.sleep(0.1)  # a third would have been claimed by now
        assert len(handler.ran) == 2 and len(pool.running) == 2
        assert pool.load.under_way == 2 and handler.under_way_seen == [1, 2]
        handler.gate.set()
        await _until(lambda: len(handler.ran) == 5 and not pool.running)
        assert await _states(stores, jobs) == [JobState.COMPLETED] * 5
        assert pool.load.under_way == 0
    finally:
        await pool.stop(0)


async def test_a_cancel_made_elsewhere_is_seen_by_the_heartbeat() -> None:
    stores = memory_stores()
    handler = Scripted()
    handler.gate.clear()  # renders until stopped
    pool = WorkerPool(deps(stores), {JobKind.COMPOSITION: handler})
    [job] = await _queue(stores, 1)
    pool.start()
    try:
        await _until(lambda: handler.ran == [job.id])
        await stores.jobs.cancel(job.id)  # as another instance's DELETE does
        await _until(lambda: not pool.running)
        assert await _states(stores, [job]) == [JobState.CANCELLED]
    finally:
        await pool.stop(0)


async def test_stop_gives_grace_then_hands_running_jobs_back() -> None:
    stores = memory_stores()
    handler = Scripted()
    handler.gate.clear()
    pool = WorkerPool(deps(stores), {JobKind.COMPOSITION: handler})
    [job] = await _queue(stores, 1)
    pool.start()
    await _until(lambda: handler.ran == [job.id])
    await pool.stop(0.05)
    row = await stores.jobs.get(job.id)
    assert row is not None and row.state is JobState.QUEUED and row.attempts == 0
    assert not pool.running and pool.load.under_way == 0


async def test_a_lost_wake_up_delays_a_job_but_never_strands_it() -> None:
    stores = memory_stores()
    handler = Scripted()
    pool = WorkerPool(deps(stores), {JobKind.COMPOSITION: handler})
    job = await stores.jobs.create(make_job())  # queued, but never pushed to the backlog
    pool.start()
    try:
        await _until(lambda: handler.ran == [job.id] and not pool.running)
        assert await _states(stores, [job]) == [JobState.COMPLETED]
    finally:
        await pool.stop(0)


async def test_a_job_that_wrote_its_final_row_finishes_its_after_job_steps() -> None:
    """Once the final row is written the lease is gone, so the heartbeat's renewal fails; it
    must not stop the job as LOST while its after-job steps (estimator, metrics) still run."""
    stores = memory_stores()
    release = asyncio.Event()
    after: list[str] = []

    async def slow_after(final: Job) -> None:
        after.append("started")
        await release.wait()  # several heartbeats pass meanwhile
        after.append("done")

    pool = WorkerPool(deps(stores, after_job=(slow_after,)), {JobKind.COMPOSITION: Scripted()})
    [job] = await _queue(stores, 1)
    pool.start()
    try:
        await _until(lambda: after == ["started"])
        await asyncio.sleep(0.2)  # four heartbeats, each failing to renew the finished lease
        release.set()
        await _until(lambda: not pool.running)
        assert after == ["started", "done"]
        assert await _states(stores, [job]) == [JobState.COMPLETED]
    finally:
        await pool.stop(0)
