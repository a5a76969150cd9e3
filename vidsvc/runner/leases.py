"""Leases after the fact: recovery at start, the reaper, and the backlog reconciler.

The database row is the truth. What a dead worker held comes back through its expired lease
(any instance's reaper); what Redis lost comes back from the queued rows (the reconciler).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from vidsvc.errors import VidsvcError
from vidsvc.jobs import JobKind, JobState, utcnow
from vidsvc.runner.lifecycle import Deps, publish
from vidsvc.store.base import Lane

log = logging.getLogger(__name__)
Sweep = Callable[[Deps], Awaitable[None]]
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


async def recover(deps: Deps) -> None:
    """Hand back what a dead process left, sweep its scratch files, rebuild the backlog.

    With a private database (SQLite) every processing row belonged to a dead process of ours,
    so it goes back at once. With a shared one (PostgreSQL) another instance may be rendering
    it: only an expired lease (the reaper) says its worker is gone.
    """
    stores = deps.stores
    if not stores.shared:
        for job in await stores.jobs.reap_expired(FAR_FUTURE):
            await publish(deps, job)
            log.info("recovered", extra={"job_id": job.id, "state": job.state.value})
    root = Path(deps.settings.tmp_dir)
    if root.is_dir():
        await asyncio.to_thread(shutil.rmtree, root, ignore_errors=True)
    for job_id in await stores.jobs.queued_ids():
        await stores.backlog.push(job_id)


async def reap_forever(deps: Deps, sweeps: Sequence[Sweep] = ()) -> None:
    """Every REAPER_INTERVAL: this instance says it is live, expired leases go back to the
    queue, the backlog is reconciled, and each kind's backstop runs (`sweeps`)."""
    while True:
        try:
            await announce(deps)
        except VidsvcError:
            log.warning("could not say this instance is live", exc_info=True)
        await asyncio.sleep(deps.settings.reaper_interval)
        try:
            await reap(deps)
            await reconcile(deps)
            for sweep in sweeps:
                await sweep(deps)
        except VidsvcError:
            log.warning("reaper pass failed", exc_info=True)


async def announce(deps: Deps) -> int:
    """Say this instance is live until three reaper passes from now; how many are (a split
    render is spread over them: work/compositions/parts/)."""
    return await deps.stores.backlog.present(deps.settings.reaper_interval * 3)


async def reap(deps: Deps) -> None:
    for job in await deps.stores.jobs.reap_expired(utcnow()):
        if job.state is JobState.QUEUED:  # a part back from a dead instance: ahead again
            lane = Lane.AHEAD if job.kind is JobKind.PART else Lane.TAIL
            await deps.stores.backlog.push(job.id, lane=lane)
        await publish(deps, job)
        log.info("lease expired", extra={"job_id": job.id, "state": job.state.value})


async def reconcile(deps: Deps) -> None:
    """The database is the truth: queued rows missing from the backlog (Redis restarted empty,
    a push lost) are pushed again; wake-ups a dead consumer took are given back."""
    backlog = deps.stores.backlog
    await backlog.reclaim(deps.settings.lease_seconds * 2)
    waiting = set(await backlog.ids())
    for job_id in await deps.stores.jobs.queued_ids():
        if job_id not in waiting:
            await backlog.push(job_id)
