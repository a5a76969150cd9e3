"""What only the Redis backends promise: several instances, dead consumers, restarts, outages,
cancels that reach the caller.

Runs against a real redis-server (tests.support.redis_server). A "crash" is simulated by closing a
handle's connections without its clean hand-back, as a SIGKILL would leave them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.support.redis_server import RedisServer
from vidsvc.errors import StorageError
from vidsvc.store.redis import RedisBacklog, RedisPubSub
from vidsvc.store.redis.client import connect, storage_errors
from vidsvc.store.redis.keys import CHANNEL, CONSUMERS, PROCESSING

Opener = Callable[..., Awaitable[Any]]


@pytest.fixture
async def opened(redis_url: str, redis_prefix: str) -> AsyncIterator[Opener]:
    """open(cls, **kw): a handle on this test's prefix, closed at the end (unless closed)."""
    async with AsyncExitStack() as stack:

        async def open_(cls: type[RedisBacklog] | type[RedisPubSub], **kw: Any) -> Any:
            handle = await cls.open(redis_url, prefix=redis_prefix, **kw)
            stack.push_async_callback(handle.aclose)
            return handle

        yield open_


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client, to look at what the backends left in Redis."""
    client = connect(redis_url, timeout_s=2, max_connections=4)
    yield client
    await client.aclose()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def crash(backlog: RedisBacklog) -> None:
    """Drop the connections without aclose()'s hand-back (private on purpose: a test seam)."""
    await backlog._close_clients()


# ---- backlog ----


async def test_two_instances_share_one_fifo(opened: Opener) -> None:
    one, two = await opened(RedisBacklog), await opened(RedisBacklog)
    for n in range(6):
        await (one if n % 2 else two).push(f"comp_{n}")
    assert await one.size() == await two.size() == 6
    got = [await (one, two)[n % 2].pop(1) for n in range(6)]
    assert got == [f"comp_{n}" for n in range(6)]
    assert await one.pop(0) is None and await two.pop(0) is None


async def test_push_keeps_one_copy_and_ids_lists_the_queue(opened: Opener) -> None:
    backlog = await opened(RedisBacklog)
    for job_id in ("comp_1", "comp_2", "comp_1", "comp_3", "comp_2"):
        await backlog.push(job_id)
    assert await backlog.ids() == ["comp_1", "comp_2", "comp_3"]
    assert await backlog.pop(0) == "comp_1"
    await backlog.push("comp_1")  # popped, not claimed yet: the reconciler may push it again
    assert await backlog.ids() == ["comp_2", "comp_3", "comp_1"]


async def test_a_dead_consumers_entries_are_reclaimed_in_order(
    opened: Opener, raw: Redis, redis_url: str, redis_prefix: str
) -> None:
    doomed = await RedisBacklog.open(redis_url, prefix=redis_prefix, consumer="doomed")
    peer = await opened(RedisBacklog)
    for n in range(4):
        await peer.push(f"comp_{n}")
    assert [await doomed.pop(0), await doomed.pop(0.5)] == ["comp_0", "comp_1"]
    await crash(doomed)
    processing = redis_prefix + PROCESSING.format(consumer="doomed")
    assert await raw.lrange(processing, 0, -1) == [b"comp_0", b"comp_1"]

    assert await peer.reclaim(idle_s=5) == 0  # not silent for long enough yet
    await asyncio.sleep(0.8)  # past the end of its last pop's wait (0.5 s) + idle_s (0.1 s)
    assert await peer.reclaim(idle_s=0.1) == 2
    assert await peer.ids() == ["comp_0", "comp_1", "comp_2", "comp_3"]
    assert await raw.exists(processing) == 0
    assert await raw.zscore(redis_prefix + CONSUMERS, "doomed") is None


async def test_acked_ids_are_not_reclaimed_and_close_gives_back_the_rest(
    opened: Opener, raw: Redis, redis_url: str, redis_prefix: str
) -> None:
    worker = await RedisBacklog.open(redis_url, prefix=redis_prefix, consumer="worker")
    peer = await opened(RedisBacklog)
    await peer.push("comp_done")
    await peer.push("comp_unclaimed")
    assert await worker.pop(0) == "comp_done"
    await worker.ack("comp_done")  # its DB claim succeeded
    assert await worker.pop(0) == "comp_unclaimed"
    await worker.aclose()  # stopping before claiming it: it goes back, to the head
    assert await peer.ids() == ["comp_unclaimed"]
    assert await raw.zscore(redis_prefix + CONSUMERS, "worker") is None


async def test_a_consumer_that_never_acks_keeps_a_bounded_list(
    opened: Opener, raw: Redis, redis_prefix: str
) -> None:
    backlog = await opened(RedisBacklog, consumer="forgetful")
    for n in range(130):
        await backlog.push(f"comp_{n}")
        assert await backlog.pop(0) == f"comp_{n}"
    processing = redis_prefix + PROCESSING.format(consumer="forgetful")
    kept = await raw.lrange(processing, 0, -1)
    assert kept == [f"comp_{n}".encode() for n in range(30, 130)]  # the newest 100


async def test_eviction_policy_is_reported(opened: Opener, raw: Redis) -> None:
    backlog = await opened(RedisBacklog)
    info = await raw.info("memory")
    assert await backlog.eviction_policy() == info["maxmemory_policy"]


async def test_a_live_consumer_keeps_its_entries(opened: Opener) -> None:
    worker, peer = await opened(RedisBacklog), await opened(RedisBacklog)
    await peer.push("comp_1")
    assert await worker.pop(0) == "comp_1"
    waiting = asyncio.create_task(worker.pop(1.0))  # alive until this wait ends
    await asyncio.sleep(0.3)
    assert await peer.reclaim(idle_s=0.2) == 0
    assert await waiting is None


# ---- pub/sub ----


async def test_publish_reaches_subscribers_of_other_instances(opened: Opener) -> None:
    one, two = await opened(RedisPubSub), await opened(RedisPubSub)
    async with two.subscribe("job:a") as there, one.subscribe("job:a") as here:
        await one.publish("job:a", b"hello")
        assert await asyncio.wait_for(anext(there), 2) == b"hello"
        assert await asyncio.wait_for(anext(here), 2) == b"hello"


async def subscriptions(raw: Redis, prefix: str, channel: str) -> int:
    counts = await raw.pubsub_numsub(prefix + CHANNEL.format(channel=channel))
    return int(counts[0][1])


async def test_one_server_subscription_per_instance_and_channel(
    opened: Opener, raw: Redis, redis_prefix: str
) -> None:
    ps = await opened(RedisPubSub)
    async with ps.subscribe("job:a"), ps.subscribe("job:a"), ps.subscribe("job:b"):
        assert await subscriptions(raw, redis_prefix, "job:a") == 1
        assert await subscriptions(raw, redis_prefix, "job:b") == 1
    await eventually(lambda: zero_subscriptions(raw, redis_prefix, ("job:a", "job:b")))


async def zero_subscriptions(raw: Redis, prefix: str, channels: tuple[str, ...]) -> bool:
    return all([await subscriptions(raw, prefix, c) == 0 for c in channels])


async def test_subscriber_survives_a_redis_restart(
    opened: Opener, raw: Redis, redis_prefix: str, redis_server: RedisServer
) -> None:
    ps = await opened(RedisPubSub)
    async with ps.subscribe("job:a") as messages:
        await ps.publish("job:a", b"before")
        assert await asyncio.wait_for(anext(messages), 2) == b"before"
        await asyncio.to_thread(redis_server.restart)

        async def resubscribed() -> bool:
            return await subscriptions(raw, redis_prefix, "job:a") == 1

        await eventually(resubscribed, within=5)  # D1: within 5 s of Redis coming back
        await ps.publish("job:a", b"after")
        assert await asyncio.wait_for(anext(messages), 2) == b"after"


async def test_an_outage_fails_fast_and_logs_once(
    opened: Opener, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    ps = await opened(RedisPubSub, timeout_s=0.5)
    backlog = await opened(RedisBacklog)
    async with ps.subscribe("job:a") as messages:
        waiting = asyncio.create_task(backlog.pop(5))
        await asyncio.sleep(0.05)
        with caplog.at_level(logging.WARNING, logger="vidsvc.store.redis"):
            redis_server.stop()
            for attempt in (ps.publish("job:a", b"x"), backlog.push("c"), backlog.pop(1)):
                started = time.monotonic()
                with pytest.raises(StorageError):
                    await attempt
                assert time.monotonic() - started < 0.5
            with pytest.raises(StorageError):
                await asyncio.wait_for(waiting, 1)  # the wait in progress ends too
            with pytest.raises(StorageError):
                async with ps.subscribe("job:b"):
                    pass  # never confirmed while Redis is down
            await asyncio.sleep(1.5)  # the listener retries meanwhile, quietly
        assert len([r for r in caplog.records if "subscriber" in r.getMessage()]) == 1
        redis_server.start()
        await backlog.push("comp_back")  # same handles work again, no reopen
        assert await backlog.pop(1) == "comp_back"
        await eventually(lambda: published(ps, messages))


async def published(ps: RedisPubSub, messages: AsyncIterator[bytes]) -> bool:
    await ps.publish("job:a", b"ping")
    try:
        return await asyncio.wait_for(anext(messages), 0.2) == b"ping"
    except TimeoutError:
        return False


# ---- lifecycle ----


async def clients(raw: Redis) -> int:
    return len(await raw.client_list())


async def test_aclose_closes_every_connection(
    redis_url: str, redis_prefix: str, raw: Redis, redis_server: RedisServer
) -> None:
    before = await clients(raw)
    ps = await RedisPubSub.open(redis_url, prefix=redis_prefix)
    backlog = await RedisBacklog.open(redis_url, prefix=redis_prefix)
    async with ps.subscribe("job:a"):
        waits = [asyncio.create_task(backlog.pop(5)) for _ in range(3)]
        await ps.publish("job:a", b"x")
        await asyncio.sleep(0.1)
        assert await clients(raw) > before + 3
        await backlog.aclose()
        assert await asyncio.gather(*waits) == [None, None, None]  # ended, like a timeout
        await ps.aclose()
    await eventually(lambda: same(clients(raw), before))


async def same(count: Awaitable[int], expected: int) -> bool:
    return await count == expected


async def test_open_fails_with_storage_error_when_redis_is_down(redis_prefix: str) -> None:
    with pytest.raises(StorageError):
        await RedisBacklog.open("redis://127.0.0.1:1/0", prefix=redis_prefix, timeout_s=0.5)
    with pytest.raises(StorageError):
        await RedisPubSub.open("redis://127.0.0.1:1/0", prefix=redis_prefix, timeout_s=0.5)


async def _cancelled_after(turns: int, call: Callable[[], Awaitable[object]]) -> bool | None:
    """Cancel a task running `call` after `turns` loop turns: True if it ended cancelled, False
    if it ran on past the cancel, None if it had finished before the cancel came."""
    task = asyncio.create_task(call())
    for _ in range(turns):
        await asyncio.sleep(0)
    if not task.cancel():
        return None
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


async def test_a_cancel_that_python_3_11s_wait_for_drops_is_delivered() -> None:
    """redis-py sends each command through asyncio.wait_for, which before Python 3.12 returns the
    result and drops a cancel that lands as the send ends (gh-86296); storage_errors delivers it
    (a task cancelled there went on running: docs/reliability.md L5)."""

    async def send() -> None:
        with storage_errors("publish"):
            await asyncio.wait_for(asyncio.sleep(0), 1)  # what every redis-py command does
        await asyncio.sleep(0)  # a dropped cancel lets the task get this far, and on

    outcomes = [await _cancelled_after(turns, send) for turns in range(8)]
    assert False not in outcomes and True in outcomes, outcomes


async def test_a_task_cancelled_during_a_publish_ends_cancelled(opened: Opener) -> None:
    """L5: 360 cancels at every point of a real PUBLISH: each one ends the task (on Python
    3.11 about a third of them were lost, and the task ran on)."""
    ps = await opened(RedisPubSub)
    outcomes = [
        await _cancelled_after(turns, lambda: ps.publish("job:a", b"x"))
        for turns in range(12)
        for _ in range(30)
    ]
    assert outcomes.count(False) == 0 and outcomes.count(True) > 100, outcomes


async def test_instances_present_are_counted_until_their_ttl_passes(opened: Opener) -> None:
    """Two instances on one Redis count each other; one that stops saying so drops out."""
    one = await opened(RedisBacklog, consumer="one")
    two = await opened(RedisBacklog, consumer="two")
    assert await one.present(0.3) == 1
    assert await two.present(5) == 2
    await asyncio.sleep(0.4)  # one said nothing since: its 0.3 s are over
    assert await two.present(5) == 1
