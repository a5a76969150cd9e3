"""Callbacks are delivered signed, recorded and retried (SSRF, S7–S9: tests/reliability)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.support.callback_sink import (
    SECRET,
    Receiver,
    callback_note,
    deps_for,
    quick_backoff,
    receiver,
)
from vidsvc.runner import callbacks

__all__ = ["quick_backoff", "receiver"]  # fixtures


async def test_delivery_is_signed_and_recorded(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([200])
    deps, job = await deps_for(rec)
    await callbacks.notify(deps, job)
    await callbacks.drain_callbacks(10)
    [(headers, body)] = rec.hits["/cb"]
    t, _, mac = headers[callbacks.SIGNATURE_HEADER].partition(",v1=")
    stamp = t.removeprefix("t=")
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(mac, expected.hexdigest())
    assert headers[callbacks.EVENT_ID_HEADER]
    doc = json.loads(body)
    assert doc["processing_id"] == job.id and doc["status"] == "failed"
    assert doc["results"] == [{"clip": 1}] and doc["error"]["code"] == "PROCESSING_FAILED"
    note = await callback_note(deps, job)
    assert note["delivered"] is True and note["url"] == rec.url()
    [attempt] = note["attempts"]
    assert attempt["status"] == 200 and "at" in attempt and "duration_ms" in attempt


async def test_5xx_and_429_are_retried_until_success(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([500, 503, 429, 200])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is True
    hits = rec.hits["/cb"]
    assert len(hits) == 4
    assert len({h[callbacks.EVENT_ID_HEADER] for h, _ in hits}) == 1  # one idempotency key
    note = await callback_note(deps, job)
    assert [a["status"] for a in note["attempts"]] == [500, 503, 429, 200]


async def test_retries_stop_at_max_attempts(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([500] * 10)
    deps, job = await deps_for(rec, callback_max_attempts=3)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert len(rec.hits["/cb"]) == 3
    assert (await callback_note(deps, job))["delivered"] is False


async def test_4xx_is_permanent(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([404, 200])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert len(rec.hits["/cb"]) == 1


async def test_network_errors_are_retried_and_recorded(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([])
    deps, job = await deps_for(rec, callback_max_attempts=2)
    dead = "http://127.0.0.1:1/cb"  # nothing listens on port 1
    deps = replace(deps, settings=replace(deps.settings, allowed_callback_hosts=("127.0.0.1:1",)))
    assert await callbacks.deliver(deps, job, dead) is False
    attempts = (await callback_note(deps, job))["attempts"]
    assert len(attempts) == 2 and all("error" in a for a in attempts)


async def test_drain_cancels_what_is_left(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([500] * 100)
    deps, job = await deps_for(rec, callback_max_attempts=20)
    callbacks.BACKOFF_BASE = 5.0  # restored by monkeypatch after the test
    await callbacks.notify(deps, job)
    await asyncio.sleep(0.3)
    await callbacks.drain_callbacks(0.1)
    assert callbacks.pending() == 0
