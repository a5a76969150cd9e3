"""NVENC_MAX_SESSIONS: how many NVENC encodes this process runs at once.

Consumer NVIDIA cards open a fixed number of encode sessions at a time (the driver's cap) and
refuse the next with `OpenEncodeSessionEx failed`; the render then pays a second, CPU encode.
The gate keeps this process's renders under the cap instead: a render waits for a session
before its FFmpeg starts, holds it for that one run and hands it back however the run ends.
Waiting is an ordinary await, so a render cancelled while it waits leaves at once and never
takes a session. The cap counts this process only: instances sharing one card need shares
that add up to it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Gate:
    """A counting semaphore that says how it is used (for /health/detailed)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0  #: NVENC FFmpeg runs holding a session now
        self.waiting = 0  #: renders waiting for one
        self.gave_up = 0  #: runs whose session failed anyway (encoded again with libx264)
        self._free = asyncio.Semaphore(limit)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self._free.acquire()  # cancellable; a cancelled waiter takes nothing
        finally:
            self.waiting -= 1
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1
            self._free.release()

    def summary(self) -> dict[str, int]:
        return {
            "in_use": self.in_use,
            "max": self.limit,
            "waiting": self.waiting,
            "gave_up": self.gave_up,
        }


#: One gate per event loop (an asyncio semaphore belongs to the loop that first waits on it);
#: the service runs one loop, tests one per test.
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Gate]] = (
    weakref.WeakKeyDictionary()
)


def gate(limit: int) -> Gate:
    """The running loop's gate of `limit` sessions."""
    gates = _GATES.setdefault(asyncio.get_running_loop(), {})
    return gates.setdefault(limit, Gate(limit))
