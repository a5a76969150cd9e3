"""A render's progress on SPEC.md §4's bands, and the seconds each stage took."""

from __future__ import annotations

import time
from collections.abc import Callable

from vidsvc.jobs import BANDS

OnStage = Callable[[str, float, str], None]  #: (stage, percentage, message)


class Reporter:
    """Maps (stage, fraction) onto the stage bands, never letting the percentage go back."""

    def __init__(self, sink: OnStage | None) -> None:
        self.sink = sink
        self.percentage = 0.0
        self.stage = "queued"
        self.timings: dict[str, float] = {}
        self._started = time.monotonic()

    def __call__(self, stage: str, fraction: float = 0.0, message: str = "") -> None:
        if stage != self.stage:
            now = time.monotonic()
            if self.stage in BANDS:  # not the initial "queued": the caller knows the queue
                self.timings[self.stage] = round(now - self._started, 3)
            self.stage, self._started = stage, now
        low, high = BANDS[stage]
        self.percentage = max(self.percentage, low + (high - low) * min(max(fraction, 0.0), 1.0))
        if self.sink is not None:
            self.sink(stage, round(self.percentage, 1), message or stage)

    def finish(self) -> dict[str, float]:
        """Close the running stage's clock; returns seconds per stage."""
        self.timings[self.stage] = round(time.monotonic() - self._started, 3)
        return dict(self.timings)
