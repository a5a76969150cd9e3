"""Fan-in: the join is released once, by whichever part completes last.

A part's completion is its fenced write (work.py); after it commits, the part reads its
siblings' rows. Whichever completion commits last sees every row completed (each reads after
its own commit), so at least one part inserts the join row; the join's id is fixed by the
parent's attempt, so a second insert is refused as a duplicate and nothing fires twice. No
counter exists to be lost. A crash between a part's commit and its insert is caught by
`sweep`, which the reaper runs on every instance (as is a capped split's lost top-up).
"""

from __future__ import annotations

import contextlib
import logging

from vidsvc.errors import StorageError
from vidsvc.jobs import JobKind, JobState
from vidsvc.runner.lifecycle import Deps, retrying
from vidsvc.store.base import Lane
from vidsvc.work.compositions.parts import flight
from vidsvc.work.compositions.parts.keeper import waiting_parent
from vidsvc.work.compositions.parts.orders import JOIN, Order, as_job

log = logging.getLogger(__name__)
SWEEP_LIMIT = 500  #: completed parts looked at per reaper pass (newest first)


async def release(order: Order, deps: Deps) -> bool:
    """Insert the join row if every part of `order`'s split is done; whether this call did."""
    jobs = deps.stores.jobs
    rows = [await retrying(lambda: jobs.get(row)) for row in order.siblings]  # noqa: B023
    if not all(row is not None and row.state is JobState.COMPLETED for row in rows):
        return False
    parent = await waiting_parent(order, deps)
    if parent is None:
        return False
    try:
        await retrying(lambda: jobs.create(as_job(order.join_id, order.as_role(JOIN), parent)))
    except ValueError:
        return False  # another part released it
    with contextlib.suppress(StorageError):  # else the reconciler or a fallback claim finds it
        await deps.stores.backlog.push(order.join_id, lane=Lane.HEAD)
    log.info("join released", extra={"job_id": order.parent})
    return True


async def sweep(deps: Deps) -> None:
    """The backstop: a split whose parts are all done and whose join was never inserted, or
    (capped: flight.py) whose next parts were never inserted."""
    jobs = deps.stores.jobs
    looked: set[str] = set()
    for row in await jobs.list(kind=JobKind.PART, state=JobState.COMPLETED, limit=SWEEP_LIMIT):
        order = Order.of(row.payload)
        if order.role == JOIN or order.parent in looked:
            continue
        looked.add(order.parent)
        if await jobs.get(order.join_id) is not None:
            continue
        if await release(order, deps):
            log.warning("join released by the sweep", extra={"job_id": order.parent})
        elif order.in_flight and (parent := await waiting_parent(order, deps)):
            if await flight.top_up(order, deps, parent):
                log.warning("parts inserted by the sweep", extra={"job_id": order.parent})
