"""Outbox: one WebSocket connection's bounded send queue (docs/reliability.md A3, C.4, L6).

The publisher side never waits: when the queue is full the oldest *progress* message is dropped
(progress only moves forward, so the newest one says everything the dropped one did), and
a terminal message is never dropped. A client that stops reading therefore costs at most
`maxsize` messages and stalls no one but itself.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Outgoing:
    payload: dict[str, Any]
    droppable: bool  #: progress may be coalesced away; status and terminal messages may not
    final: bool  #: the terminal message: the sender closes the socket after it


class Outbox:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = max(1, maxsize)
        self._items: deque[Outgoing] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0  #: progress messages coalesced away so far

    def __len__(self) -> int:
        return len(self._items)

    def put(
        self, payload: dict[str, Any], *, droppable: bool = False, final: bool = False
    ) -> None:
        """Queue without waiting; on overflow drop the oldest droppable message."""
        if len(self._items) >= self.maxsize:
            victim = next((item for item in self._items if item.droppable), None)
            if victim is not None:
                self._items.remove(victim)
                self.dropped += 1
            elif droppable:
                self.dropped += 1  # only undroppable ones are queued: this one yields
                return
        self._items.append(Outgoing(payload, droppable and not final, final))
        self._ready.set()

    async def get(self) -> Outgoing:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()
