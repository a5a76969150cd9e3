"""Callbacks are delivered signed and recorded (retries: D10; SSRF, S7–S9:
tests/acceptance/reliability)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from tests.support.callback_sink import (
    RESULT,
    SECRET,
    Receiver,
    callback_note,
    deps_for,
    quick_backoff,
    receiver,
)
from vidsvc.work.clips import callbacks

__all__ = ["quick_backoff", "receiver"]  # fixtures


async def test_delivery_is_signed_and_recorded(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([200])
    deps, job = await deps_for(rec)
    await callbacks.notify(deps, job, rec.url())
    await callbacks.drain_callbacks(10)
    [(headers, body)] = rec.hits["/cb"]
    t, _, mac = headers[callbacks.SIGNATURE_HEADER].partition(",v1=")
    stamp = t.removeprefix("t=")
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(mac, expected.hexdigest())
    assert headers[callbacks.EVENT_ID_HEADER]
    doc = json.loads(body)
    assert doc["processing_id"] == job.id and doc["status"] == "failed"
    assert doc["results"] == [RESULT] and doc["error"]["code"] == "PROCESSING_FAILED"
    note = await callback_note(deps, job)
    assert note["delivered"] is True and note["url"] == rec.url()
    [attempt] = note["attempts"]
    assert attempt["status"] == 200 and "at" in attempt and "duration_ms" in attempt


async def test_drain_cancels_what_is_left(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([500] * 100)
    deps, job = await deps_for(rec, callback_max_attempts=20)
    callbacks.BACKOFF_BASE = 5.0  # restored by monkeypatch after the test
    await callbacks.notify(deps, job, rec.url())
    await asyncio.sleep(0.3)
    await callbacks.drain_callbacks(0.1)
    assert callbacks.pending() == 0
