"""Fan-in without a counter (work/compositions/parts/fanin.py): the join row is inserted once
every part is done, exactly once however many parts race to release it, and never for a
parent that stopped waiting; the sweep releases what a crash between a part's commit and its
insert left. Memory stores: the ordering is the contract's, which every store keeps."""

from __future__ import annotations

import asyncio
import dataclasses

from tests.support.jobs import make_job
from tests.support.lifecycle import claimed, deps, memory_stores
from vidsvc.graph.split import Part, Split
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.runner.lifecycle import Deps
from vidsvc.store import Stores
from vidsvc.work.compositions.parts import fanin
from vidsvc.work.compositions.parts.keeper import done_fraction
from vidsvc.work.compositions.parts.orders import SOUND, VIDEO, Order, as_job, ids

PARTS = (Part(index=0, first=0, end=200), Part(index=1, first=200, end=600))
SPLIT = Split(fps=10, frames=600, gop=20, parts=PARTS)


async def split_parent(stores: Stores) -> tuple[Job, Order, tuple[str, ...]]:
    """A claimed composition and its three part rows (two video parts and the sound),
    inserted and claimed as a split render inserts and instances claim them."""
    parent = await claimed(stores)
    rows = ids(parent, 2)
    order = Order(parent=parent.id, parent_token=parent.token, role=VIDEO, index=0, plan="p" * 64,
                  facts={}, split=SPLIT.to_dict(), duration_ms=60_000, chunk_ms=30_000,
                  max_parts=4, siblings=rows)  # fmt: skip
    for k, row in enumerate(rows):
        role = order.as_role(SOUND) if row.endswith("_s") else order.as_role(VIDEO, k)
        await stores.jobs.create(as_job(row, role, parent))
    return parent, order, rows


async def complete(stores: Stores, row: str) -> None:
    job = await stores.jobs.claim(row, owner="w", lease_s=30)
    assert job is not None
    done = await stores.jobs.finish(row, job.token, JobState.COMPLETED, output_key=f"k/{row}")
    assert done is not None


def worker(stores: Stores) -> Deps:
    return deps(stores)


async def test_the_join_is_released_only_when_every_part_is_done() -> None:
    stores = memory_stores()
    _, order, rows = await split_parent(stores)
    for row in rows[:-1]:
        await complete(stores, row)
        assert not await fanin.release(order, worker(stores))
    await complete(stores, rows[-1])
    assert await fanin.release(order, worker(stores))
    join = await stores.jobs.get(order.join_id)
    assert join is not None and join.state is JobState.QUEUED and join.kind is JobKind.PART
    assert Order.of(join.payload).role == "join"
    assert order.join_id in await stores.backlog.ids()


async def test_racing_parts_release_one_join() -> None:
    """Every part finishing at once, each releasing: one insert wins, the others see it."""
    stores = memory_stores()
    _, order, rows = await split_parent(stores)
    for row in rows:
        await complete(stores, row)
    won = await asyncio.gather(*(fanin.release(order, worker(stores)) for _ in range(8)))
    assert won.count(True) == 1
    joins = [j for j in await stores.jobs.list(kind=JobKind.PART, limit=50) if j.id.endswith("_j")]
    assert len(joins) == 1


async def test_no_join_for_a_parent_that_stopped_waiting() -> None:
    stores = memory_stores()
    parent, order, rows = await split_parent(stores)
    for row in rows:
        await complete(stores, row)
    await stores.jobs.finish(parent.id, parent.token, JobState.CANCELLED)
    assert not await fanin.release(order, worker(stores))
    assert await stores.jobs.get(order.join_id) is None


async def test_the_sweep_releases_a_join_a_crash_left_unreleased() -> None:
    stores = memory_stores()
    _, order, rows = await split_parent(stores)
    for row in rows:
        await complete(stores, row)  # the last part died before its release
    assert await stores.jobs.get(order.join_id) is None
    await fanin.sweep(worker(stores))
    assert await stores.jobs.get(order.join_id) is not None
    await fanin.sweep(worker(stores))  # again: nothing more
    joins = [j for j in await stores.jobs.list(kind=JobKind.PART, limit=50) if j.id.endswith("_j")]
    assert len(joins) == 1


async def test_progress_counts_frames_done_across_the_parts() -> None:
    stores = memory_stores()
    _, order, rows = await split_parent(stores)
    await complete(stores, rows[0])  # 200 of 600 frames
    second = await stores.jobs.claim(rows[1], owner="w", lease_s=30)
    assert second is not None
    half = dataclasses.replace(second.progress, stage="encoding", percentage=57.5)  # half way
    await stores.jobs.record_progress(rows[1], second.token, half)
    read = [await stores.jobs.get(row) for row in order.video_ids]
    assert abs(done_fraction(order, read) - (200 + 200) / 600) < 1e-9


def test_an_eta_from_the_pace_since_the_hand_off() -> None:
    from datetime import timedelta

    from vidsvc.jobs import utcnow
    from vidsvc.work.compositions.parts.keeper import eta

    started = utcnow() - timedelta(seconds=12)
    parent = make_job(started_at=started, metadata={"split": {"prepare_seconds": 2.0}})
    assert eta(parent, 0.02) is None  # too early to say
    assert abs((eta(parent, 0.25) or 0) - 30.0) < 1.0  # 10 s for a quarter: 30 s to go
    assert eta(make_job(metadata={}), 0.5) is None
