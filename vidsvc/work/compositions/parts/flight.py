"""A split's parts in flight: at most the order's `in_flight` of its rows queued or running at
once (`SPLIT_PARTS_IN_FLIGHT`; 0: every part is queued when it splits), the rest inserted as
parts finish, so one long render leaves the other slots to other work.

Rows are inserted in one fixed sequence (the sound, then the video parts longest first), each
top-up inserting the first missing ones, as many as the rows it saw in flight leave under the
cap. So the rows that exist are always a prefix of the sequence, and a top-up that read stale
rows (another's insert not yet seen) inserts a prefix the other already did, refused as a
duplicate: however top-ups race, the cap holds (a row counted in flight that finished only
lowers the count). A top-up lost to a crash between a part's completion and its insert is
made by the reaper's sweep (fanin.py), on every instance.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from vidsvc.errors import StorageError
from vidsvc.jobs import Job
from vidsvc.runner.lifecycle import Deps, retrying
from vidsvc.store.base import Lane
from vidsvc.work.compositions.parts.orders import SOUND, VIDEO, Order, as_job


def sequence(order: Order) -> list[int]:
    """The order rows are inserted in: indices into `order.siblings`, the sound (the longest
    item, on the critical path) first, then the video parts longest first (so the last wave
    does not end on a long one)."""
    return [len(order.siblings) - 1, *order.plan_split.longest_first()]


def due(order: Order, rows: Sequence[Job | None]) -> list[int]:
    """The rows to insert now (indices into `order.siblings`), given every sibling's row as
    read (None: not inserted yet)."""
    missing = [k for k in sequence(order) if rows[k] is None]
    if order.in_flight <= 0:
        return missing
    flying = sum(1 for row in rows if row is not None and not row.state.terminal)
    return missing[: max(0, order.in_flight - flying)]


async def top_up(
    order: Order, deps: Deps, parent: Job, rows: Sequence[Job | None] | None = None
) -> list[str]:
    """Insert the rows `due` for `parent`'s split; the ids this call inserted. `rows`: the
    siblings' rows if known (the hand-off knows none exists: its attempt names them), else
    read here. The sound is claimed by this instance as soon as it has a free slot
    (`Deps.claim_here`): the hand-off inserts it, here, where the inputs' probes are cached.
    The video parts go ahead of every new job, behind the parts of splits already waiting
    (`Lane.AHEAD`)."""
    jobs = deps.stores.jobs
    if rows is None:
        rows = [await retrying(lambda: jobs.get(row)) for row in order.siblings]  # noqa: B023
    sound = order.siblings[-1]
    inserted: list[str] = []
    for k in due(order, rows):
        row_id = order.siblings[k]
        role = order.as_role(SOUND) if row_id == sound else order.as_role(VIDEO, k)
        try:
            await retrying(lambda: jobs.create(as_job(row_id, role, parent)))  # noqa: B023
        except ValueError:  # inserted by a racing top-up (or an attempt cut short): the same row
            continue
        inserted.append(row_id)
    for row_id in inserted:
        if row_id == sound:
            deps.claim_here.append(row_id)
            continue
        with contextlib.suppress(StorageError):  # the reconciler pushes it, or a fallback claim
            await deps.stores.backlog.push(row_id, lane=Lane.AHEAD)
    return inserted
