"""Outbox (a connection's bounded send queue) and the JSON log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

from tests.support.http_app import Client
from vidsvc.http.logs import JsonFormatter, configure_logging, request_id_var
from vidsvc.http.outbox import Outbox


def progress(n: int) -> dict[str, Any]:
    return {"type": "progress", "n": n}


async def drain(box: Outbox) -> list[Any]:
    out = []
    while len(box):
        out.append((await box.get()).payload)
    return out


async def test_overflow_drops_the_oldest_progress_only() -> None:
    box = Outbox(3)
    box.put({"type": "status"})
    for n in range(10):
        box.put(progress(n), droppable=True)
    box.put({"type": "completed"}, final=True)
    assert len(box) == 3 and box.dropped == 9
    assert await drain(box) == [{"type": "status"}, progress(9), {"type": "completed"}]


async def test_undroppable_messages_are_never_dropped() -> None:
    box = Outbox(1)
    box.put({"type": "status"})
    box.put(progress(1), droppable=True)  # nothing droppable to evict: the newcomer yields
    box.put({"type": "completed"}, final=True)
    items = [await box.get(), await box.get()]
    assert [i.payload["type"] for i in items] == ["status", "completed"]
    assert items[1].final and not items[0].final


async def test_get_waits_for_a_put() -> None:
    box = Outbox(4)
    waiter = asyncio.create_task(box.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    box.put(progress(1), droppable=True)
    assert (await asyncio.wait_for(waiter, 1)).payload == progress(1)


def test_json_lines_carry_the_context_ids() -> None:
    record = logging.LogRecord("vidsvc.x", logging.INFO, "f.py", 1, "hello %s", ("you",), None)
    record.composition_id = "comp_1"
    record.state = "queued"
    token = request_id_var.set("req_abc")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello you" and line["level"] == "INFO"
    assert line["logger"] == "vidsvc.x" and line["timestamp"].endswith("Z")
    assert line["request_id"] == "req_abc" and line["composition_id"] == "comp_1"
    assert line["state"] == "queued"


def test_exceptions_are_formatted_into_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, "f", 1, "failed", None, sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in line["exc_info"] and line["request_id"] is None


def test_configure_logging_writes_json_to_the_stream() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    try:
        configure_logging("INFO", stream)
        logging.getLogger("vidsvc.test").info("one line", extra={"composition_id": "comp_9"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert json.loads(stream.getvalue())["composition_id"] == "comp_9"


async def test_one_access_line_per_request_with_its_ids(client: Client) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())  # formats while the request's context is current
    access = logging.getLogger("vidsvc.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        await client.get("/api/v1/compositions/comp_404404", headers={"X-Request-ID": "rid-1"})
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    (line,) = [json.loads(raw) for raw in stream.getvalue().splitlines()]
    assert line["message"] == "GET /api/v1/compositions/comp_404404 404"
    assert line["request_id"] == "rid-1" and line["composition_id"] == "comp_404404"
    assert line["status"] == 404 and line["duration_ms"] >= 0 and line["method"] == "GET"
