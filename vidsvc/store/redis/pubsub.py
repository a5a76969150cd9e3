"""RedisPubSub: publish to every instance; ONE subscriber connection per instance, fanned out.

Local subscribers get bounded mailboxes that drop their oldest message when full, as in
MemoryPubSub. The SUBSCRIBE for a channel goes out with its first local subscriber and the
UNSUBSCRIBE with its last. A listener task owns the connection. When the connection fails, the
listener reconnects with backoff and subscribes again to every channel that has a local
subscriber. redis-py's own PubSub is not used: it may quietly stop receiving after a disconnect
(redis-py#2089, #2417). Delivery is at-most-once: a message published during an outage is
lost, and events carry seq so clients can re-read the snapshot. publish() raises StorageError
quickly during an outage. Progress callers treat that as best effort.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError, RedisError

from vidsvc.errors import StorageError
from vidsvc.store.inprocess import Mailbox
from vidsvc.store.redis.client import connect, pool, storage_errors
from vidsvc.store.redis.keys import CHANNEL

log = logging.getLogger(__name__)

_BACKOFF_MIN, _BACKOFF_MAX = 0.05, 1.0  # reconnects: D1 wants < 5 s once Redis is back


@dataclass(eq=False)
class _Channel:
    mailboxes: set[Mailbox] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  #: Redis confirmed SUBSCRIBE
    session: int = 0  #: the connection (listener session) its SUBSCRIBE went out on


class RedisPubSub:
    """Messages in publish order per channel, to every subscriber of every instance that was
    subscribed when Redis handled the publish; a lagging local subscriber loses its oldest."""

    def __init__(self, url: str, *, prefix: str, limit: int, timeout_s: float, size: int):
        self._prefix = prefix + CHANNEL.format(channel="")
        self._limit, self._timeout_s, self._heartbeat_s = limit, timeout_s, max(timeout_s, 1.0)
        self._redis = connect(url, timeout_s=timeout_s, max_connections=size)
        # RESP2: pub/sub frames are plain replies, whatever redis-py's default protocol is (8.x
        # speaks RESP3, where a read that does not ask for pushes silently drops them).
        self._listen_pool = pool(
            url, timeout_s=timeout_s, max_connections=1, blocking=True, protocol=2
        )
        self._channels: dict[str, _Channel] = {}
        self._conn: AbstractConnection | None = None  # set while subscribed and reading
        self._session = 0
        self._failing = False  # since the last connection was lost: one warning per outage
        self._stale: dict[str, int] = {}  # confirmations still due for channels since dropped
        self._listener: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        prefix: str = "vidsvc:",
        max_connections: int = 50,
        limit: int = 256,
        timeout_s: float = 2.0,
    ) -> RedisPubSub:
        """Connect (StorageError if Redis does not answer) and start the listener."""
        pubsub = cls(url, prefix=prefix, limit=limit, timeout_s=timeout_s, size=max_connections)
        try:
            await pubsub.ping()
        except StorageError:
            await pubsub.aclose()
            raise
        pubsub._listener = asyncio.create_task(pubsub._listen(), name="redis-pubsub-listener")
        return pubsub

    async def publish(self, channel: str, message: bytes) -> None:
        with storage_errors("publish"):
            await self._redis.publish(self._prefix + channel, message)

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        return self._subscription(channel)

    @asynccontextmanager
    async def _subscription(self, name: str) -> AsyncIterator[AsyncIterator[bytes]]:
        mailbox = Mailbox(self._limit)
        channel = self._channels.get(name)
        first = channel is None
        if channel is None:
            channel = self._channels[name] = _Channel()
        channel.mailboxes.add(mailbox)  # before any await, so a leaving peer keeps the channel
        try:
            if first:
                await self._send("SUBSCRIBE", name, channel)
            await self._confirmed(channel)
            if self._closed:
                mailbox.offer(None)
            yield mailbox
        finally:
            channel.mailboxes.discard(mailbox)
            if not channel.mailboxes and self._channels.get(name) is channel:
                del self._channels[name]
                if channel.session == self._session and not channel.ready.is_set():
                    self._stale[name] = self._stale.get(name, 0) + 1
                await self._send("UNSUBSCRIBE", name, channel)

    async def _confirmed(self, channel: _Channel) -> None:
        """Wait until the server has the subscription, so later publishes reach it."""
        if self._closed:
            return
        try:
            async with asyncio.timeout(self._timeout_s):
                await channel.ready.wait()
        except TimeoutError:
            raise StorageError(
                "redis subscribe failed: not confirmed in time", details={"backend": "redis"}
            ) from None

    async def _send(self, command: str, name: str, channel: _Channel) -> None:
        """Send on the live connection; while there is none, the listener subscribes on connect."""
        conn = self._conn
        if conn is None or not conn.is_connected:
            return
        channel.session = self._session
        try:
            await conn.send_command(command, self._prefix + name, check_health=False)
        except RedisError:
            pass  # the connection is broken: the listener reconnects and subscribes again

    def subscriber_count(self, channel: str) -> int:
        """Local subscribers of channel (this instance only)."""
        entry = self._channels.get(channel)
        return len(entry.mailboxes) if entry else 0

    async def _listen(self) -> None:
        """Keep one subscribed connection alive for as long as this object is open."""
        delay = _BACKOFF_MIN
        while True:
            try:
                await self._session_once()
            except Exception as exc:
                # One warning per outage, not per attempt, so a long outage cannot flood the log.
                if not self._failing:
                    unexpected = not isinstance(exc, RedisError | OSError)
                    log.warning(
                        "redis subscriber failed (%s); reconnecting", exc, exc_info=unexpected
                    )
                    delay = _BACKOFF_MIN
                else:
                    log.debug("redis subscriber reconnect failed: %s", exc)
                    delay = min(delay * 2, _BACKOFF_MAX)
                self._failing = True
            await asyncio.sleep(delay)

    async def _session_once(self) -> None:
        conn = await self._listen_pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            self._session += 1
            self._stale.clear()
            names = list(self._channels)
            for name in names:
                self._channels[name].session = self._session
            # Published before the await below: a channel that appears meanwhile sends its own.
            self._conn, self._failing = conn, False
            if names:
                keys = [self._prefix + name for name in names]
                await conn.send_command("SUBSCRIBE", *keys, check_health=False)
            if self._session > 1:
                log.info("redis subscriber reconnected; %d channels resubscribed", len(names))
            await self._read(conn)
        finally:
            self._conn = None
            for channel in self._channels.values():
                channel.ready.clear()
            await conn.disconnect()
            await self._listen_pool.release(conn)

    async def _read(self, conn: AbstractConnection) -> None:
        awaiting_pong = False
        while True:
            reply = await conn.read_response(timeout=self._heartbeat_s, push_request=True)
            if reply is None:  # silence: a dead peer that never closed the socket looks the same
                if awaiting_pong:
                    raise ConnectionError("no reply to PING on the subscriber connection")
                await conn.send_command("PING", check_health=False)
                awaiting_pong = True
                continue
            awaiting_pong = False
            self._dispatch(reply)
            await asyncio.sleep(0)  # let subscribers drain before the next burst overflows them

    def _dispatch(self, reply: Any) -> None:
        if not isinstance(reply, list) or len(reply) < 3:
            return  # PONG: b"PONG" before the first SUBSCRIBE, [b"pong", b""] after it
        kind, key = reply[0], reply[1]
        name = key.decode()[len(self._prefix) :] if isinstance(key, bytes) else ""
        if kind == b"message":
            channel = self._channels.get(name)
            for mailbox in tuple(channel.mailboxes if channel else ()):
                mailbox.offer(reply[2])
        elif kind == b"subscribe":
            if self._stale.get(name):
                self._stale[name] -= 1  # the answer to a SUBSCRIBE whose channel was dropped
            elif (channel := self._channels.get(name)) is not None:
                channel.ready.set()

    async def ping(self) -> None:
        with storage_errors("ping"):
            await self._redis.ping()

    async def aclose(self) -> None:
        """End every local subscription (forwarders return) and close both connections' pools."""
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        self._conn = None
        for channel in self._channels.values():
            channel.ready.set()  # release subscribers still waiting for a confirmation
            for mailbox in channel.mailboxes:
                mailbox.offer(None)
        await self._listen_pool.aclose()
        await self._redis.aclose()
