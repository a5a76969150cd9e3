"""Budget (vidsvc/runner/budget.py): MAX_CONCURRENT_JOBS units shared by jobs and other work
(beat analyses), other work leaving a unit to jobs, jobs served first, units handed over in
order, cancellation leaving no unit lost; and the pool running each job under a unit that
`WorkerPool.slot` also hands out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.support.jobs import make_job
from tests.support.lifecycle import Scripted, deps, memory_stores
from vidsvc.jobs import JobKind, JobState
from vidsvc.runner.budget import Budget
from vidsvc.runner.lifecycle import StopReason
from vidsvc.runner.pool import WorkerPool


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


async def test_jobs_are_served_first_then_other_work_in_arrival_order() -> None:
    budget = Budget(1)
    order: list[str] = []
    gate = asyncio.Event()

    async def work(name: str, *, job: bool = False) -> None:
        async with budget.unit(job=job):
            order.append(name)
            assert budget.in_use == 1  # never more than its units
            await gate.wait()

    holder = asyncio.create_task(work("holder"))
    await _until(lambda: order == ["holder"])
    waiters = [asyncio.create_task(work("beat-a")), asyncio.create_task(work("beat-b"))]
    await _until(lambda: budget.waiting == (0, 2))
    waiters.append(asyncio.create_task(work("render", job=True)))
    await _until(lambda: budget.waiting == (1, 2))
    gate.set()
    await asyncio.gather(holder, *waiters)
    assert order == ["holder", "render", "beat-a", "beat-b"]
    assert budget.in_use == 0 and budget.waiting == (0, 0)


async def test_other_work_leaves_one_unit_to_jobs_when_there_are_two_or_more() -> None:
    budget = Budget(2)
    await budget.acquire()  # an analysis
    second = asyncio.create_task(budget.acquire())  # another: waits, though a unit is free
    await _until(lambda: budget.waiting == (0, 1))
    assert budget.in_use == 1
    async with asyncio.timeout(1):
        await budget.acquire(job=True)  # a render finds the free unit at once
    assert budget.in_use == 2
    budget.release(job=True)  # the render ends: the analyses' share is still full
    assert budget.waiting == (0, 1)
    budget.release()  # the first analysis ends: the second one's turn
    await second
    assert (budget.in_use, budget.others_in_use) == (1, 1)
    alone = Budget(1)
    async with asyncio.timeout(1), alone.unit():  # with one unit, other work may have it
        assert alone.in_use == 1


async def test_a_cancelled_waiter_leaves_the_queue_and_a_cancelled_handover_passes_on() -> None:
    budget = Budget(1)
    await budget.acquire()
    gone = asyncio.create_task(budget.acquire())
    stays = asyncio.create_task(budget.acquire())
    await _until(lambda: budget.waiting == (0, 2))
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    assert budget.waiting == (0, 1)
    budget.release()  # to `stays`, not to the cancelled one
    await stays
    assert budget.in_use == 1
    # handed a unit, then cancelled before it could run: the unit goes back, none is lost
    late = asyncio.create_task(budget.acquire())
    await _until(lambda: budget.waiting == (0, 1))
    budget.release()
    late.cancel()
    await asyncio.gather(late, return_exceptions=True)
    assert late.cancelled() and budget.in_use == 0
    async with asyncio.timeout(1):
        await budget.acquire()  # free at once


async def test_a_job_waits_for_a_unit_held_by_other_work_and_runs_once_it_is_freed() -> None:
    stores = memory_stores()
    handler = Scripted()
    pool = WorkerPool(deps(stores, max_concurrent_jobs=1), {JobKind.COMPOSITION: handler})
    pool.start()
    try:
        slot = pool.slot()
        await slot.__aenter__()  # a beat analysis holds the only unit
        job = await stores.jobs.create(make_job(0))
        await stores.backlog.push(job.id)
        await _until(lambda: pool.budget.waiting == (1, 0))  # claimed, waiting first in line
        assert handler.ran == [] and job.id in pool.running
        await slot.__aexit__(None, None, None)
        await _until(lambda: not pool.running)
        row = await stores.jobs.get(job.id)
        assert handler.ran == [job.id] and row is not None and row.state is JobState.COMPLETED
        assert pool.budget.in_use == 0
    finally:
        await pool.stop(0)


async def test_a_job_cancelled_while_it_waits_for_a_unit_ends_cancelled() -> None:
    stores = memory_stores()
    handler = Scripted()
    pool = WorkerPool(deps(stores, max_concurrent_jobs=1), {JobKind.COMPOSITION: handler})
    pool.start()
    try:
        async with pool.slot():
            job = await stores.jobs.create(make_job(0))
            await stores.backlog.push(job.id)
            await _until(lambda: pool.budget.waiting == (1, 0))
            assert pool.stop_job(job.id, StopReason.CANCEL)
            await _until(lambda: not pool.running)
        row = await stores.jobs.get(job.id)
        assert row is not None and row.state is JobState.CANCELLED
        assert handler.ran == [] and pool.budget.in_use == 0 and pool.budget.waiting == (0, 0)
    finally:
        await pool.stop(0)
