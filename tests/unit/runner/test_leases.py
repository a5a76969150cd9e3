"""Leases after the fact: recovery at start, the reaper, and the backlog reconciler."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from tests.support.jobs import make_job
from tests.support.lifecycle import claimed, deps, memory_stores
from vidsvc.jobs import JobState, utcnow
from vidsvc.runner import leases


async def test_recover_hands_back_what_a_dead_process_held_and_rebuilds_the_backlog(
    tmp_path: Path,
) -> None:
    stores = memory_stores()
    held = await claimed(stores, max_attempts=3)
    spent = await claimed(stores, max_attempts=1)
    waiting = await stores.jobs.create(make_job(5))
    d = deps(stores, tmp_dir=tmp_path)
    await leases.recover(d)
    states = {j.id: getattr(await stores.jobs.get(j.id), "state", None) for j in (held, spent)}
    assert states == {held.id: JobState.QUEUED, spent.id: JobState.FAILED}
    assert sorted(await stores.backlog.ids()) == sorted([held.id, waiting.id])


async def test_the_reaper_requeues_an_expired_lease_and_wakes_a_worker() -> None:
    stores = memory_stores()
    job = await stores.jobs.create(make_job())
    row = await stores.jobs.claim(job.id, owner="dead", lease_s=0.001)
    assert row is not None
    await asyncio.sleep(0.01)  # its worker died: the lease runs out
    live = await claimed(stores)  # a lease still running is left alone
    await leases.reap(deps(stores))
    after = await stores.jobs.get(job.id)
    assert after is not None and after.state is JobState.QUEUED
    untouched = await stores.jobs.get(live.id)
    assert untouched is not None and untouched.state is JobState.PROCESSING
    assert await stores.backlog.ids() == [job.id]


async def test_the_reconciler_pushes_queued_rows_the_backlog_lost() -> None:
    stores = memory_stores()
    jobs = [await stores.jobs.create(make_job(n)) for n in range(3)]
    await stores.backlog.push(jobs[0].id)  # the other two were lost (Redis restarted empty)
    await leases.reconcile(deps(stores))
    assert sorted(await stores.backlog.ids()) == sorted(j.id for j in jobs)


async def test_expired_means_before_now() -> None:
    stores = memory_stores()
    job = await claimed(stores)
    assert job.lease is not None
    assert await stores.jobs.reap_expired(utcnow()) == []
    later = job.lease.expires_at + timedelta(seconds=1)
    assert [j.id for j in await stores.jobs.reap_expired(later)] == [job.id]
