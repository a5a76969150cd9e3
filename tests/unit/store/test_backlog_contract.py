"""The Backlog contract (store/base.py), run against every implementation in conftest.backlog."""

from __future__ import annotations

import asyncio
import time

from vidsvc.store.base import Backlog, Lane


async def test_fifo(backlog: Backlog) -> None:
    for job_id in ("comp_1", "comp_2", "comp_3"):
        await backlog.push(job_id)
    assert [await backlog.pop(1) for _ in range(3)] == ["comp_1", "comp_2", "comp_3"]


async def test_pop_timeout_returns_none_quickly(backlog: Backlog) -> None:
    started = time.monotonic()
    assert await backlog.pop(0.05) is None
    assert time.monotonic() - started < 0.5
    assert await backlog.pop(0) is None  # zero: just look


async def test_pop_zero_takes_what_is_there(backlog: Backlog) -> None:
    await backlog.push("comp_1")
    assert await backlog.pop(0) == "comp_1"


async def test_size_and_discard(backlog: Backlog) -> None:
    assert await backlog.size() == 0
    for job_id in ("comp_1", "comp_2", "comp_3"):
        await backlog.push(job_id)
    assert await backlog.size() == 3
    await backlog.discard("comp_2")
    await backlog.discard("comp_unknown")  # not an error
    assert await backlog.size() == 2
    assert [await backlog.pop(1), await backlog.pop(1)] == ["comp_1", "comp_3"]
    assert await backlog.pop(0.01) is None


async def test_pop_wakes_on_push(backlog: Backlog) -> None:
    waiter = asyncio.create_task(backlog.pop(5))
    await asyncio.sleep(0.02)
    started = time.monotonic()
    await backlog.push("comp_1")
    assert await asyncio.wait_for(waiter, 1) == "comp_1"
    assert time.monotonic() - started < 0.5


async def test_each_item_goes_to_one_waiter(backlog: Backlog) -> None:
    waiters = [asyncio.create_task(backlog.pop(0.5)) for _ in range(5)]
    await asyncio.sleep(0.01)
    for n in range(3):
        await backlog.push(f"comp_{n}")
    got = await asyncio.gather(*waiters)
    assert sorted(g for g in got if g is not None) == ["comp_0", "comp_1", "comp_2"]
    assert got.count(None) == 2


async def test_a_timed_out_waiter_does_not_swallow_an_item(backlog: Backlog) -> None:
    """Short waiters time out around the push; the long waiter still gets the item."""
    long = asyncio.create_task(backlog.pop(2))
    short = [asyncio.create_task(backlog.pop(0.01)) for _ in range(20)]
    await asyncio.sleep(0.01)
    await backlog.push("comp_1")
    got = await asyncio.gather(long, *short)
    assert got.count("comp_1") == 1


async def test_cancelled_pop_loses_nothing(backlog: Backlog) -> None:
    waiter = asyncio.create_task(backlog.pop(5))
    await asyncio.sleep(0.01)
    waiter.cancel()
    await backlog.push("comp_1")
    await asyncio.gather(waiter, return_exceptions=True)
    assert await backlog.pop(0.1) == "comp_1"


async def test_lanes_favour_finishing_started_jobs(backlog: Backlog) -> None:
    """A split's parts go ahead of new jobs but behind the parts of an older split; a join
    goes ahead of all (the issue's claim order: join, then the oldest parent's parts)."""
    await backlog.push("comp_1")
    await backlog.push("comp_2")
    await backlog.push("part_a_s", lane=Lane.AHEAD)
    await backlog.push("part_a_v0", lane=Lane.AHEAD)
    await backlog.push("part_b_s", lane=Lane.AHEAD)  # a younger split: behind the older's
    await backlog.push("part_a_j", lane=Lane.HEAD)
    await backlog.push("comp_1", lane=Lane.HEAD)  # already waiting: it stays where it is
    await backlog.push("comp_3")
    want = ["part_a_j", "part_a_s", "part_a_v0", "part_b_s", "comp_1", "comp_2", "comp_3"]
    assert await backlog.ids() == want
    assert [await backlog.pop(1) for _ in range(2)] == want[:2]
    for job_id in want[:2]:
        await backlog.ack(job_id)
    # popped and acked, an id is no longer ahead: the next AHEAD push goes after part_b_s
    await backlog.push("part_b_v0", lane=Lane.AHEAD)
    await backlog.discard("part_a_v0")
    assert await backlog.ids() == ["part_b_s", "part_b_v0", "comp_1", "comp_2", "comp_3"]
    # with nothing ahead, AHEAD is the head; a part given back to the tail lane waits there
    for job_id in ("part_b_s", "part_b_v0"):
        await backlog.discard(job_id)
    await backlog.push("part_c_v0", lane=Lane.AHEAD)
    await backlog.push("part_c_v1")
    assert await backlog.ids() == ["part_c_v0", "comp_1", "comp_2", "comp_3", "part_c_v1"]


async def test_present_counts_this_instance(backlog: Backlog) -> None:
    assert await backlog.present(5) == 1
    assert await backlog.present(5) == 1  # saying it again is still one instance
