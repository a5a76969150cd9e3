"""Reporter: the one way a job says how far it is, `report(stage, fraction, message, eta=,
speed=)`.

It maps a stage and how far through it (0-1) onto the stage's band of the job's percentage
(jobs.BANDS), never lets the percentage go back, times each stage, and hands a `Progress` to
its sink: the job's ProgressWriter in the service (the lifecycle builds one per job and passes
it to `Handler.run`), a progress bar in `vidsvc render`. A job made of parts (clip i of n)
reports through `part(i, n)`: the same stages inside the part's share of the percentage.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from vidsvc.jobs import BANDS, Progress, Stage

Sink = Callable[[Progress], None]


async def _nothing() -> None:
    return None


class Reporter:
    def __init__(
        self,
        sink: Sink | None = None,
        *,
        flush: Callable[[], Awaitable[None]] = _nothing,
        span: tuple[float, float] = (0.0, 100.0),
        label: str = "",
    ) -> None:
        self.sink, self.flush = sink, flush
        self.span, self.label = span, label
        self.percentage = span[0]
        self.stage = Stage.QUEUED
        self.timings: dict[str, float] = {}
        self._started = time.monotonic()

    def __call__(
        self,
        stage: Stage,
        fraction: float = 0.0,
        message: str = "",
        *,
        eta: float | None = None,
        speed: float | None = None,
    ) -> None:
        """`eta` and `speed` describe a running encode: reported with ENCODING only."""
        if stage is not self.stage:
            now = time.monotonic()
            if self.stage in BANDS:  # not the initial "queued": the caller knows the queue
                self.timings[self.stage] = round(now - self._started, 3)
            self.stage, self._started = stage, now
        low, high = self.span
        here = low + (high - low) * stage.percentage(fraction) / 100
        self.percentage = max(self.percentage, here)
        if self.sink is None:
            return
        encoding = stage is Stage.ENCODING
        self.sink(
            Progress(
                stage=stage,
                percentage=round(self.percentage, 1),
                message=self.label + (message or stage),
                eta_seconds=eta if encoding else None,
                speed=speed if encoding else None,
            )
        )

    def part(self, index: int, count: int, label: str = "") -> Reporter:
        """Part `index` of `count` equal parts: its stages fill its share of this span."""
        low, high = self.span
        share = (high - low) / count
        span = (low + share * index, low + share * (index + 1))
        return Reporter(self.sink, flush=self.flush, span=span, label=label)

    def finish(self) -> dict[str, float]:
        """Close the running stage's clock; returns seconds per stage."""
        self.timings[self.stage] = round(time.monotonic() - self._started, 3)
        return dict(self.timings)
