"""The PubSub contract (store/base.py), run against every implementation in conftest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tests.support.store_backends import PubSubBackend


async def take(messages: AsyncIterator[bytes], n: int, timeout: float = 2.0) -> list[bytes]:
    async def collect() -> list[bytes]:
        return [await anext(messages) for _ in range(n)]

    return await asyncio.wait_for(collect(), timeout)


async def nothing_within(messages: AsyncIterator[bytes], seconds: float = 0.05) -> bool:
    try:
        await asyncio.wait_for(anext(messages), seconds)
    except TimeoutError:
        return True
    return False


async def test_messages_arrive_in_order(pubsub_backend: PubSubBackend) -> None:
    ps = pubsub_backend.pubsub
    async with ps.subscribe("job:a") as messages:
        sent = [f"m{i}".encode() for i in range(50)]
        for message in sent:
            await ps.publish("job:a", message)
        assert await take(messages, 50) == sent


async def test_fan_out_to_every_subscriber(pubsub_backend: PubSubBackend) -> None:
    ps = pubsub_backend.pubsub
    async with ps.subscribe("job:a") as one, ps.subscribe("job:a") as two:
        async with ps.subscribe("job:a") as three:
            await ps.publish("job:a", b"x")
            await ps.publish("job:a", b"y")
            for messages in (one, two, three):
                assert await take(messages, 2) == [b"x", b"y"]


async def test_only_messages_after_subscribing_on_that_channel(
    pubsub_backend: PubSubBackend,
) -> None:
    ps = pubsub_backend.pubsub
    await ps.publish("job:a", b"early")
    async with ps.subscribe("job:a") as messages:
        await ps.publish("job:b", b"elsewhere")
        await ps.publish("job:a", b"late")
        assert await take(messages, 1) == [b"late"]
        assert await nothing_within(messages)


async def test_unsubscribe_on_context_exit(pubsub_backend: PubSubBackend) -> None:
    ps = pubsub_backend.pubsub
    async with ps.subscribe("job:a"), ps.subscribe("job:a"):
        assert pubsub_backend.subscribers("job:a") == 2
    assert pubsub_backend.subscribers("job:a") == 0
    await ps.publish("job:a", b"to nobody")  # not an error


async def test_unsubscribe_when_the_reader_fails(pubsub_backend: PubSubBackend) -> None:
    ps = pubsub_backend.pubsub
    try:
        async with ps.subscribe("job:a"):
            raise RuntimeError("websocket closed")
    except RuntimeError:
        pass
    assert pubsub_backend.subscribers("job:a") == 0


async def read_until(messages: AsyncIterator[bytes], last: int) -> list[int]:
    got: list[int] = []
    async for message in messages:  # no wait_for per message: it would slow the reader down
        got.append(int(message))
        if got[-1] == last:
            break
    return got


async def test_a_slow_subscriber_does_not_block_publish(pubsub_backend: PubSubBackend) -> None:
    """One subscriber never reads while 5000 messages go out: publishing still finishes, a
    reading subscriber gets all of them, and the slow one ends up at the newest, in order."""
    ps = pubsub_backend.pubsub
    total = 5000
    async with ps.subscribe("job:a") as slow, ps.subscribe("job:a") as fast:
        reader = asyncio.create_task(read_until(fast, total - 1))

        async def publish_all() -> None:
            for i in range(total):
                await ps.publish("job:a", str(i).encode())
                if i % 10 == 0:
                    await asyncio.sleep(0)  # let the reading subscriber keep up

        # the bounds only end a publish that blocks (it would wait forever): generous, as 5000
        # round trips to Redis took over 5 s while the suite rendered beside them
        await asyncio.wait_for(publish_all(), 60)
        assert await asyncio.wait_for(reader, 60) == list(range(total))
        kept = await asyncio.wait_for(read_until(slow, total - 1), 60)
        assert kept == sorted(set(kept)) and len(kept) < total


async def test_close_ends_subscriptions(pubsub_backend: PubSubBackend) -> None:
    ps = pubsub_backend.pubsub
    async with ps.subscribe("job:a") as messages:
        reader = asyncio.create_task(take(messages, 1, timeout=5))
        await asyncio.sleep(0.01)
        await ps.aclose()
        try:
            await asyncio.wait_for(reader, 2)
        except StopAsyncIteration:
            pass  # the iterator ended rather than waiting forever
        else:
            raise AssertionError("a message appeared from nowhere")
