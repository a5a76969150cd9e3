"""Children are forked one per turn of the event loop (media/process.py): a fork copies the
service's page tables on the loop thread, so many started together (a dry run's 31 probes)
held the loop for the sum of them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from vidsvc.media import process


async def test_forks_take_turns_with_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    turn, ticking = 0, True

    def tick() -> None:
        nonlocal turn
        turn += 1
        if ticking:
            loop.call_soon(tick)

    started: list[int] = []
    real = asyncio.create_subprocess_exec

    async def counted(*argv: Any, **kw: Any) -> asyncio.subprocess.Process:
        started.append(turn)  # a spy: the child is started for real
        return await real(*argv, **kw)

    monkeypatch.setattr(process.asyncio, "create_subprocess_exec", counted)
    loop.call_soon(tick)
    done = await asyncio.gather(*(process.run_capture(["true"], timeout=10) for _ in range(12)))
    ticking = False
    assert all(c.returncode == 0 for c in done)
    assert len(started) == 12
    assert len(set(started)) == 12, f"forks in the same turn of the loop: {started}"
