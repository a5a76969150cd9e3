"""In-process pub/sub and backlog: production's single-instance backends and the test fakes.

MemoryPubSub fans out to one bounded mailbox per subscriber and never blocks a publisher;
MemoryBacklog is a duplicate-free FIFO that pop() waits on. Both live and die with the event loop,
which is why the job store (the truth) can rebuild the backlog at start. Imports only vidsvc.jobs;
never runner, graph or http.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from vidsvc.jobs import JobId
from vidsvc.store.base import Lane


class Mailbox:
    """One subscriber's bounded mailbox; when full, the oldest message makes room."""

    def __init__(self, limit: int) -> None:
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=limit)
        self._ended = False
        self.dropped = 0  #: messages lost because this subscriber fell behind

    def offer(self, message: bytes | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    def __aiter__(self) -> Mailbox:
        return self

    async def __anext__(self) -> bytes:
        if not self._ended:
            message = await self._queue.get()
            if message is not None:
                return message
            self._ended = True  # None is the end-of-stream mark put by MemoryPubSub.aclose()
        raise StopAsyncIteration


class MemoryPubSub:
    """In-process fan-out. publish() never waits: a subscriber that falls behind by more than
    `limit` messages loses its oldest ones (events carry seq; a client re-reads the snapshot)."""

    def __init__(self, *, limit: int = 256) -> None:
        self._limit = limit
        self._channels: dict[str, set[Mailbox]] = {}
        self._closed = False

    async def publish(self, channel: str, message: bytes) -> None:
        for sub in tuple(self._channels.get(channel, ())):
            sub.offer(message)

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        return self._subscription(channel)

    @asynccontextmanager
    async def _subscription(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        sub = Mailbox(self._limit)
        if self._closed:
            sub.offer(None)
        subs = self._channels.setdefault(channel, set())
        subs.add(sub)
        try:
            yield sub
        finally:
            subs.discard(sub)
            if not subs and self._channels.get(channel) is subs:
                del self._channels[channel]

    def subscriber_count(self, channel: str) -> int:
        return len(self._channels.get(channel, ()))

    async def aclose(self) -> None:
        """End every subscriber's iteration, so WebSocket forwarders return."""
        self._closed = True
        for subs in self._channels.values():
            for sub in subs:
                sub.offer(None)


class MemoryBacklog:
    """FIFO of job ids without duplicates; pop() waits on a Condition up to its timeout."""

    def __init__(self) -> None:
        self._order: deque[JobId] = deque()
        self._members: set[JobId] = set()
        self._ahead: set[JobId] = set()  #: the waiting ids pushed AHEAD or HEAD
        self._ready = asyncio.Condition()
        self._closed = False

    async def push(self, job_id: JobId, *, lane: Lane = Lane.TAIL) -> None:
        async with self._ready:
            if job_id in self._members:
                return  # already waiting; a second copy would only cost a failed claim
            if lane is Lane.HEAD:
                self._order.appendleft(job_id)
            elif lane is Lane.AHEAD:
                at = next((i for i, w in enumerate(self._order) if w not in self._ahead), None)
                self._order.insert(len(self._order) if at is None else at, job_id)
            else:
                self._order.append(job_id)
            if lane is not Lane.TAIL:
                self._ahead.add(job_id)
            self._members.add(job_id)
            # notify_all, not notify(): on Python < 3.13 a waiter that times out just as it is
            # notified swallows the wake-up, leaving another waiter asleep beside an item.
            self._ready.notify_all()

    async def pop(self, timeout_s: float) -> JobId | None:
        async with self._ready:
            try:
                async with asyncio.timeout(max(timeout_s, 0.0)):
                    await self._ready.wait_for(lambda: bool(self._order) or self._closed)
            except TimeoutError:
                return None
            if not self._order:
                return None
            job_id = self._order.popleft()
            self._members.discard(job_id)
            self._ahead.discard(job_id)
            return job_id

    async def discard(self, job_id: JobId) -> None:
        async with self._ready:
            if job_id in self._members:
                self._members.discard(job_id)
                self._ahead.discard(job_id)
                self._order.remove(job_id)

    async def ack(self, job_id: JobId) -> None:
        """Nothing to forget: a popped id lives nowhere else in process."""

    async def ids(self) -> list[JobId]:
        async with self._ready:
            return list(self._order)

    async def reclaim(self, idle_s: float) -> int:
        """No other consumers in process: nothing is ever stranded."""
        return 0

    async def size(self) -> int:
        return len(self._order)

    async def present(self, ttl_s: float) -> int:
        """In process there is one instance: this one."""
        return 1

    async def aclose(self) -> None:
        async with self._ready:
            self._closed = True
            self._ready.notify_all()
