"""The event loop's lag: how late a timer fires, sampled every INTERVAL seconds.

Every request, WebSocket, lease heartbeat and FFmpeg progress line of this process waits on one
loop; anything that holds it (CPU-bound Python, a blocking call) delays them all. The monitor
sleeps INTERVAL and measures how much later than asked it woke: that is the lag every other
callback saw meanwhile. Each sample goes to `observe` (/metrics:
`vidsvc_event_loop_lag_seconds`), and one over WARN_SECONDS is logged as a warning.

Imports nothing from vidsvc.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
INTERVAL = 0.1
WARN_SECONDS = 0.1


class LoopLag:
    def __init__(self, observe: Callable[[float], None] | None = None) -> None:
        self.observe = observe
        self.worst = 0.0  #: the largest lag seen since start, seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample(), name="loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sample(self) -> None:
        while True:
            asked = time.perf_counter() + INTERVAL
            await asyncio.sleep(INTERVAL)
            lag = max(0.0, time.perf_counter() - asked)
            self.worst = max(self.worst, lag)
            if self.observe is not None:
                self.observe(lag)
            if lag > WARN_SECONDS:
                log.warning("event loop lag %.3f s: something held the loop", lag)
