"""RedisBacklog: the queue order shared by every instance, as a Redis "reliable queue".

A pending list, and BLMOVE from it into a processing list per consumer; not a Stream. The row in
the database is the lock and the truth, so Redis only has to order and wake. A list gives FIFO,
LPOS de-duplication on push, LREM for discard and LRANGE for the reconciler. A Stream would add
a consumer group that a restart without persistence deletes (NOGROUP loops), trimming, and a PEL
that outlives trims, to promise what the claim in the DB already does. The processing list
covers the gap between pop and claim: ack() clears it once the claim is decided, and reclaim()
gives back what consumers silent for idle_s had popped. Reclaiming from a consumer that is only
slow costs a peer one failed claim, nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Coroutine
from typing import Any, cast

from redis.exceptions import RedisError

from vidsvc.errors import StorageError
from vidsvc.jobs import JobId
from vidsvc.store.base import Lane
from vidsvc.store.redis.client import connect, storage_errors
from vidsvc.store.redis.keys import AHEAD, CONSUMERS, PENDING, PRESENT, PROCESSING

log = logging.getLogger(__name__)

# The scripts read the server's clock (TIME), so instances whose clocks differ agree on silence.
_NOW = "local t = redis.call('TIME')\nlocal now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
# Lane.AHEAD goes before the first waiting id not marked ahead: the marked ones form the
# list's head (HEAD pushes there, pops take from there), so the scan is as long as they are.
_PUSH = """
if redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
if ARGV[2] == '0' then return redis.call('RPUSH', KEYS[1], ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[2] == '2' then return redis.call('LPUSH', KEYS[1], ARGV[1]) end
local i = 0
while true do
  local waiting = redis.call('LINDEX', KEYS[1], i)
  if not waiting then return redis.call('RPUSH', KEYS[1], ARGV[1]) end
  if redis.call('SISMEMBER', KEYS[2], waiting) == 0 then
    return redis.call('LINSERT', KEYS[1], 'BEFORE', waiting, ARGV[1])
  end
  i = i + 1
end"""
# An id out of a list (processing once acked, pending once discarded) and out of the ahead set,
# in one round trip.
_FORGET = """
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])"""
# Also bounds the processing list, so a caller that never acks cannot grow it without end (the
# pool claims right after pop: entries older than the last _KEEP pops are long decided).
_SEEN = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)"""
)
_KEEP = 100
_SILENT = (
    _NOW + "return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', "
    "string.format('(%d', now - tonumber(ARGV[1])))"
)
# Back to the head in the order they were popped, skipping ids pushed again meanwhile. Silence is
# re-checked here, atomically, so a consumer that spoke up after _SILENT keeps its entries.
_GIVE_BACK = (
    _NOW
    + """
local seen = redis.call('ZSCORE', KEYS[3], ARGV[1])
if seen and tonumber(seen) >= now - tonumber(ARGV[2]) then return 0 end
local moved = 0
local id = redis.call('RPOP', KEYS[1])
while id do
  if not redis.call('LPOS', KEYS[2], id) then
    redis.call('LPUSH', KEYS[2], id)
    moved = moved + 1
  end
  id = redis.call('RPOP', KEYS[1])
end
redis.call('ZREM', KEYS[3], ARGV[1])
return moved"""
)
# Live until now + ttl; those whose time has passed are forgotten before counting.
_PRESENT = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now))
return redis.call('ZCARD', KEYS[1])"""
)
_UNPOP = """
redis.call('LREM', KEYS[1], -1, ARGV[1])
if not redis.call('LPOS', KEYS[2], ARGV[1]) then redis.call('LPUSH', KEYS[2], ARGV[1]) end"""


def _text(value: bytes | str) -> JobId:
    return value.decode() if isinstance(value, bytes) else value


class RedisBacklog:
    """FIFO and duplicate-free like MemoryBacklog; each id goes to one pop of one instance."""

    def __init__(self, url: str, *, prefix: str, consumer: str, timeout_s: float, size: int):
        self.consumer = consumer
        self._prefix, self._timeout_s = prefix, timeout_s
        self._redis = connect(url, timeout_s=timeout_s, max_connections=size)
        # Waiting pops hold these connections, so they never starve the short commands above.
        self._blocking = connect(url, timeout_s=timeout_s, max_connections=size, blocking=True)
        self._pending = prefix + PENDING
        self._ahead = prefix + AHEAD
        self._processing = prefix + PROCESSING.format(consumer=consumer)
        self._consumers = prefix + CONSUMERS
        self._present = prefix + PRESENT
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        prefix: str = "vidsvc:",
        consumer: str | None = None,
        max_connections: int = 16,
        timeout_s: float = 2.0,
    ) -> RedisBacklog:
        """Connect, or raise StorageError. `consumer` names this handle's processing list
        (default: host-pid-random, new for every start)."""
        name = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        backlog = cls(url, prefix=prefix, consumer=name, timeout_s=timeout_s, size=max_connections)
        try:
            await backlog.ping()
        except StorageError:
            await backlog._close_clients()
            raise
        return backlog

    async def _eval(self, script: str, keys: list[str], *args: str | int | bytes) -> Any:
        return await self._redis.eval(script, len(keys), *keys, *args)

    async def push(self, job_id: JobId, *, lane: Lane = Lane.TAIL) -> None:
        with storage_errors("push"):
            await self._eval(_PUSH, [self._pending, self._ahead], job_id, str(int(lane)))

    async def present(self, ttl_s: float) -> int:
        with storage_errors("present"):
            count = await self._eval(_PRESENT, [self._present], self.consumer, int(ttl_s * 1000))
        return int(count)

    async def pop(self, timeout_s: float) -> JobId | None:
        """The next id, kept in this consumer's processing list until ack(); None on timeout."""
        with storage_errors("pop"):
            # Alive until this wait ends, so a long wait never looks like silence to reclaim().
            keys = [self._consumers, self._processing]
            await self._eval(_SEEN, keys, self.consumer, int(timeout_s * 1000), _KEEP - 1)
            if timeout_s <= 0:  # BLMOVE's 0 means "forever"; a zero wait is a plain LMOVE
                raw = await self._redis.lmove(self._pending, self._processing, "LEFT", "RIGHT")
            else:
                raw = await self._wait_and_move(timeout_s)
        return None if raw is None else _text(raw)

    async def _wait_and_move(self, timeout_s: float) -> bytes | str | None:
        move = self._spawn(self._blmove(timeout_s))
        try:
            # Shielded: cutting the BLMOVE off mid-wait could leave the server moving an id into
            # our processing list after we stopped listening, where nobody would pick it up.
            return await asyncio.shield(move)
        except asyncio.CancelledError:
            if move.cancelled() and self._closed:
                return None  # aclose() ended the wait, as MemoryBacklog's close does
            if not self._closed:
                self._spawn(self._hand_back(move))
            raise

    async def _blmove(self, timeout_s: float) -> bytes | str | None:
        async with asyncio.timeout(timeout_s + self._timeout_s):
            # Redis takes fractional seconds here (>= 6.0); redis-py's annotation says int.
            wait = cast(int, timeout_s)
            return await self._blocking.blmove(
                self._pending, self._processing, wait, "LEFT", "RIGHT"
            )

    async def _hand_back(self, move: asyncio.Task[bytes | str | None]) -> None:
        """The BLMOVE of a cancelled pop may still get an id: put it back at the head."""
        try:
            raw = await move
            if raw is not None:
                await self._eval(_UNPOP, [self._processing, self._pending], raw)
        except (RedisError, TimeoutError):
            log.warning("could not hand back a popped id; reclaim() will", exc_info=True)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def ack(self, job_id: JobId) -> None:
        """Forget a popped id once its DB claim succeeded, or failed for good."""
        with storage_errors("ack"):
            await self._eval(_FORGET, [self._processing, self._ahead], job_id)

    async def reclaim(self, idle_s: float) -> int:
        """Give back the ids popped by consumers silent for idle_s; returns how many went back.
        idle_s must exceed the time a live consumer takes from pop to ack."""
        idle_ms = int(idle_s * 1000)
        with storage_errors("reclaim"):
            silent = await self._eval(_SILENT, [self._consumers], idle_ms)
            moved = 0
            for raw in silent:
                if _text(raw) != self.consumer:
                    moved += await self._give_back(_text(raw), idle_ms)
            return moved

    async def _give_back(self, consumer: str, idle_ms: int) -> int:
        keys = [
            self._prefix + PROCESSING.format(consumer=consumer),
            self._pending,
            self._consumers,
        ]
        moved: int = await self._eval(_GIVE_BACK, keys, consumer, idle_ms)
        return moved

    async def discard(self, job_id: JobId) -> None:
        with storage_errors("discard"):
            await self._eval(_FORGET, [self._pending, self._ahead], job_id)

    async def size(self) -> int:
        with storage_errors("size"):
            return int(await self._redis.llen(self._pending))

    async def ids(self) -> list[JobId]:
        """Every pending id, head first (a reconciler re-pushes queued rows missing here)."""
        with storage_errors("ids"):
            raw = await self._redis.lrange(self._pending, 0, -1)
        return [_text(item) for item in raw]

    async def eviction_policy(self) -> str:
        """Redis's maxmemory-policy (from INFO, which managed Redis allows where CONFIG is
        off). Anything but "noeviction" may silently drop queued ids (docs/reliability.md D2)."""
        with storage_errors("info"):
            info = await self._redis.info("memory")
        return str(info.get("maxmemory_policy", "unknown"))

    async def ping(self) -> None:
        with storage_errors("ping"):
            await self._redis.ping()

    async def aclose(self) -> None:
        """End waiting pops (they return None), give back unacked ids, close every connection."""
        if self._closed:
            return
        self._closed = True
        tasks = tuple(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            with storage_errors("close"):
                await self._redis.zadd(self._consumers, {self.consumer: 0})  # silent from now on
                await self._give_back(self.consumer, 0)
        except StorageError:
            log.warning("unacked ids stay until a peer's reclaim()", exc_info=True)
        await self._close_clients()

    async def _close_clients(self) -> None:
        await self._blocking.aclose()
        await self._redis.aclose()
