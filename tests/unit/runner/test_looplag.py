"""The loop-lag monitor: each sample is how late a 0.1 s timer fired."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from vidsvc.runner.looplag import INTERVAL, LoopLag


async def test_samples_are_small_on_an_idle_loop_and_a_held_loop_is_seen(
    caplog: pytest.LogCaptureFixture,
) -> None:
    samples: list[float] = []
    monitor = LoopLag(samples.append)
    monitor.start()
    await asyncio.sleep(INTERVAL * 3.5)
    idle = list(samples)
    with caplog.at_level(logging.WARNING, logger="vidsvc.runner.looplag"):
        time.sleep(0.4)  # what a CPU-bound call on the loop does
        await asyncio.sleep(INTERVAL * 1.5)
    await monitor.stop()
    assert len(idle) >= 2
    assert max(samples) >= 0.25 and max(samples) == monitor.worst
    assert sum(s >= 0.25 for s in samples) == 1
    assert [r.levelname for r in caplog.records if "event loop lag" in r.getMessage()] == [
        "WARNING"
    ]
