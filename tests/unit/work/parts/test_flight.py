"""A split's parts in flight (work/compositions/parts/flight.py): rows inserted in one
sequence (the sound, then the video parts longest first), never more than the cap queued or
running however top-ups race on stale reads, and the reaper's sweep making a top-up a crash
lost. Memory stores: the ordering is the contract's, which every store keeps."""

from __future__ import annotations

import random

import pytest

from tests.support.jobs import make_job
from tests.support.lifecycle import claimed, deps, memory_stores
from vidsvc.graph.split import Part, Split
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.store import Stores
from vidsvc.work.compositions.parts import fanin, flight
from vidsvc.work.compositions.parts.orders import VIDEO, Order, ids

#: four video parts of different lengths: longest first is 2, 0, 3, 1
PARTS = (Part(index=0, first=0, end=300), Part(index=1, first=300, end=400),
         Part(index=2, first=400, end=800), Part(index=3, first=800, end=1000))  # fmt: skip
SPLIT = Split(fps=10, frames=1000, gop=20, parts=PARTS)


def order_for(parent: Job, cap: int) -> Order:
    return Order(parent=parent.id, parent_token=parent.token or "", role=VIDEO, index=0,
                 plan="p" * 64, facts={}, split=SPLIT.to_dict(), duration_ms=100_000,
                 chunk_ms=30_000, max_parts=8, siblings=ids(parent, 4), in_flight=cap)  # fmt: skip


def row(state: JobState) -> Job:
    return make_job(kind=JobKind.PART, state=state)


def test_the_sound_goes_first_then_the_longest_part() -> None:
    order = order_for(make_job(), 0)
    assert flight.sequence(order) == [4, 2, 0, 3, 1]
    assert flight.due(order, [None] * 5) == [4, 2, 0, 3, 1]  # no cap: every row at once


def test_the_cap_counts_queued_and_running_rows_not_finished_ones() -> None:
    order = order_for(make_job(), 2)
    assert flight.due(order, [None] * 5) == [4, 2]
    running, queued, done = row(JobState.PROCESSING), row(JobState.QUEUED), row(JobState.COMPLETED)
    assert flight.due(order, [None, None, queued, None, running]) == []
    assert flight.due(order, [None, None, done, None, running]) == [0]
    assert flight.due(order, [done, None, done, None, done]) == [3, 1]


@pytest.mark.parametrize("seed", range(20))
def test_top_ups_racing_on_stale_reads_never_exceed_the_cap(seed: int) -> None:
    """Rows start, finish and are topped up in a random interleaving, each top-up inserting
    what it computed from a read taken some steps before (another's inserts not seen): the
    rows in flight never exceed the cap, the rows inserted are always a prefix of the
    sequence, and every row is inserted in the end."""
    rng = random.Random(seed)
    cap = rng.choice([1, 2, 3])
    order = order_for(make_job(), cap)
    states: list[JobState | None] = [None] * 5
    reads: list[list[JobState | None]] = [list(states)]

    def view(read: list[JobState | None]) -> list[Job | None]:
        return [None if s is None else row(s) for s in read]

    for _ in range(400):
        step = rng.random()
        if step < 0.3:
            reads.append(list(states))
        elif step < 0.6 and reads:  # a top-up from some earlier read
            for k in flight.due(order, view(reads.pop(rng.randrange(len(reads))))):
                states[k] = states[k] or JobState.QUEUED  # an existing row: refused
        else:
            live = [k for k, s in enumerate(states) if s in (JobState.QUEUED, JobState.PROCESSING)]
            if live:
                k = rng.choice(live)
                done = states[k] is JobState.PROCESSING
                states[k] = JobState.COMPLETED if done else JobState.PROCESSING
                reads.append(list(states))  # the finisher (or claimer) reads after its write
        flying = sum(1 for s in states if s in (JobState.QUEUED, JobState.PROCESSING))
        assert flying <= cap
        made = [states[k] is not None for k in flight.sequence(order)]
        assert made == sorted(made, reverse=True), "inserted rows are not a prefix"
    while None in states:  # the parts that finish top the rest up
        for k in flight.due(order, view(states)):
            states[k] = JobState.QUEUED
        states = [JobState.COMPLETED if s else None for s in states]
    assert all(s is JobState.COMPLETED for s in states)


async def split_parent(stores: Stores, cap: int) -> tuple[Job, Order]:
    parent = await claimed(stores)
    return parent, order_for(parent, cap)


async def test_a_top_up_queues_the_parts_and_claims_the_sound_here() -> None:
    stores = memory_stores()
    parent, order = await split_parent(stores, 2)
    here = deps(stores)
    assert await flight.top_up(order, here, parent) == [order.siblings[4], order.siblings[2]]
    assert list(here.claim_here) == [order.siblings[4]]
    assert await stores.backlog.ids() == [order.siblings[2]]
    assert await flight.top_up(order, here, parent) == []  # two in flight already


async def test_the_sweep_makes_a_top_up_a_crash_lost() -> None:
    """A part completed and its instance died before inserting the next: the reaper's sweep
    (any instance) inserts it; once the parent stops waiting, nothing more is inserted."""
    stores = memory_stores()
    parent, order = await split_parent(stores, 1)
    await flight.top_up(order, deps(stores), parent)
    sound = order.siblings[4]
    job = await stores.jobs.claim(sound, owner="w", lease_s=30)
    assert job is not None and job.token
    await stores.jobs.finish(sound, job.token, JobState.COMPLETED, output_key="k")
    await fanin.sweep(deps(stores))
    assert await stores.jobs.get(order.siblings[2]) is not None  # the longest, next
    assert await stores.jobs.get(order.siblings[0]) is None
    job = await stores.jobs.claim(order.siblings[2], owner="w", lease_s=30)
    assert job is not None and job.token
    await stores.jobs.finish(order.siblings[2], job.token, JobState.COMPLETED, output_key="k")
    await stores.jobs.finish(parent.id, parent.token or "", JobState.CANCELLED)
    before = len(await stores.jobs.list(kind=JobKind.PART, limit=50))
    await fanin.sweep(deps(stores))
    assert len(await stores.jobs.list(kind=JobKind.PART, limit=50)) == before
