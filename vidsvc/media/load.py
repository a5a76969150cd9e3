"""Load: the renders under way in this process, counted by whoever runs them.

The worker pool owns one (a job counts from its claim to its end); `vidsvc render` makes its
own, holding its one render. Two figures come from it: how many renders share the cores now
(the threads policy: threads.py), and how many shared them on average over a span (the time
integral of the count: the estimator learns the machine's throughput from it). `encoding`
counts FFmpeg renders running, for the metrics gauge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from vidsvc.media.memory_gate import MemoryGate

Mark = tuple[float, float]  #: (render-seconds so far, when)


class Load:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.under_way = 0  #: renders (compositions, clips jobs) between start and end
        self.encoding = 0  #: their FFmpeg processes running now
        #: the service's memory budget for renders; None (the CLI, tests): no gate
        self.memory: MemoryGate | None = None
        self._clock = clock
        self._area = 0.0  #: the time integral of under_way, in render-seconds
        self._at = clock()

    @contextmanager
    def render(self) -> Iterator[None]:
        """Count a render as under way for the span of the block."""
        self.mark()
        self.under_way += 1
        try:
            yield
        finally:
            self.mark()
            self.under_way -= 1

    @contextmanager
    def ffmpeg(self) -> Iterator[None]:
        """Count a running FFmpeg render for the span of the block."""
        self.encoding += 1
        try:
            yield
        finally:
            self.encoding -= 1

    def mark(self) -> Mark:
        """Bring the integral up to date and return it with the time."""
        now = self._clock()
        self._area += self.under_way * (now - self._at)
        self._at = now
        return self._area, now

    def sharing_since(self, start: Mark) -> float:
        """How many renders were under way on average since `start` (a mark taken by one of
        them, so never less than 1): what the estimator reads machine throughput from."""
        area, now = self.mark()
        elapsed = now - start[1]
        return max(1.0, (area - start[0]) / elapsed) if elapsed > 0 else 1.0
