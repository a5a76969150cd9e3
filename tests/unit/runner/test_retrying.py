"""Storage calls ride out a blip and give up on an outage (lifecycle.retrying / terminal)."""

from __future__ import annotations

import asyncio

import pytest

from vidsvc.errors import StorageError
from vidsvc.runner import lifecycle


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(
        lifecycle.asyncio, "sleep", fake_sleep
    )  # the module: patched for this test only
    return slept


async def test_a_blip_is_retried_with_backoff(no_waiting: list[float]) -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise StorageError("S3 blinked")
        return "stored"

    assert await lifecycle.retrying(flaky) == "stored"
    assert no_waiting == [0.5, 1.0]


async def test_an_outage_gives_up_with_storage_error(no_waiting: list[float]) -> None:
    async def down() -> None:
        raise StorageError("down")

    with pytest.raises(StorageError):
        await lifecycle.retrying(down)
    assert len(no_waiting) == lifecycle.RETRIES - 1


async def test_other_errors_are_not_retried(no_waiting: list[float]) -> None:
    async def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await lifecycle.retrying(broken)
    assert no_waiting == []


async def test_terminal_writes_survive_the_caller_being_cancelled() -> None:
    done = asyncio.Event()

    async def write() -> None:
        await asyncio.sleep(0.05)
        done.set()

    task = asyncio.ensure_future(lifecycle.terminal(write))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(done.wait(), 1)
