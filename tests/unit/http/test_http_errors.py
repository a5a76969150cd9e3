"""Every error, from every route, as the SPEC.md §2 envelope; X-Request-ID on every response."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.support.http_app import DOC, Client, FakeRunner, assert_envelope
from vidsvc.errors import InvalidClipFormat, InvalidTimeline, QueueFull, StorageError

POST = "/api/v1/compositions"


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (
            InvalidTimeline("clip 2: trim_end 9.0 is past the source's 8.0 s"),
            "INVALID_TIMELINE",
            400,
        ),
        (InvalidClipFormat("clips[0].url: ftp is refused"), "INVALID_CLIP_FORMAT", 400),
        (StorageError("bucket unreachable"), "STORAGE_ERROR", 503),
    ],
)
async def test_domain_errors_keep_their_code_and_status(
    client: Client, fake: FakeRunner, error: Exception, code: str, status: int
) -> None:
    fake.raise_on["submit"] = error
    resp = await client.post(POST, json=DOC)
    body = await resp.json()
    assert resp.status == status
    assert_envelope(body, code)
    assert body["error"]["message"] == str(error)


async def test_queue_full_is_503_with_retry_after(client: Client, fake: FakeRunner) -> None:
    fake.raise_on["submit"] = QueueFull("100 jobs are waiting", details={"retry_after": 7})
    resp = await client.post(POST, json=DOC)
    assert resp.status == 503 and resp.headers["Retry-After"] == "7"
    assert_envelope(await resp.json(), "QUEUE_FULL")


async def test_draining_is_503_service_unavailable_with_retry_after(
    client: Client, fake: FakeRunner
) -> None:
    fake.begin_drain()
    resp = await client.post(POST, json=DOC)
    assert resp.status == 503 and resp.headers["Retry-After"] == "5"
    assert_envelope(await resp.json(), "SERVICE_UNAVAILABLE")


async def test_unknown_route_is_404_not_found(client: Client) -> None:
    for path in ["/nope", "/api/v2/compositions", "/ws/compositions", "/files"]:
        resp = await client.get(path)
        assert resp.status == 404, path
        assert_envelope(await resp.json(), "NOT_FOUND")


async def test_wrong_method_is_405_with_allow(client: Client) -> None:
    resp = await client.put(POST, json=DOC)
    assert resp.status == 405
    assert "POST" in resp.headers["Allow"]
    assert_envelope(await resp.json(), "METHOD_NOT_ALLOWED")


async def test_oversized_body_is_413(app_client: Any) -> None:
    client = await app_client(MAX_BODY_BYTES="2048")
    doc = {"clips": [{"url": "s3://bucket/" + "a" * 4096}]}
    resp = await client.post(POST, json=doc)
    body = await resp.json()
    assert resp.status == 413
    assert_envelope(body, "PAYLOAD_TOO_LARGE")
    assert "2048" in body["error"]["message"]


async def test_unexpected_exception_is_500_without_stack_trace(
    client: Client, fake: FakeRunner, caplog: pytest.LogCaptureFixture
) -> None:
    fake.raise_on["get"] = RuntimeError("secret detail from deep inside")
    with caplog.at_level(logging.ERROR, logger="vidsvc.http.errors"):
        resp = await client.get("/api/v1/compositions/comp_123456", headers={"X-Request-ID": "r1"})
    text = await resp.text()
    assert resp.status == 500
    assert_envelope(await resp.json(), "INTERNAL_ERROR", request_id="r1")
    assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "secret detail" in str(logged[0].exc_info[1])  # type: ignore[index]


async def test_request_id_is_echoed_when_sane(client: Client) -> None:
    resp = await client.get("/health", headers={"X-Request-ID": "abc-123_X.y"})
    assert resp.headers["X-Request-ID"] == "abc-123_X.y"
    resp = await client.get("/api/v1/compositions/nope", headers={"X-Request-ID": "trace.42"})
    assert resp.headers["X-Request-ID"] == "trace.42"
    assert (await resp.json())["error"]["request_id"] == "trace.42"


@pytest.mark.parametrize("incoming", ["", "a" * 129, "has space", "semi;colon", "ünï"])
async def test_insane_request_ids_are_replaced(client: Client, incoming: str) -> None:
    headers = {"X-Request-ID": incoming} if incoming.isascii() else {}
    resp = await client.get("/nope", headers=headers)
    rid = resp.headers["X-Request-ID"]
    assert rid.startswith("req_") and rid != incoming
    assert (await resp.json())["error"]["request_id"] == rid


async def test_every_response_gets_a_request_id(client: Client) -> None:
    for path in ["/health", "/docs", "/api/docs/openapi.json", "/api/v1/compositions"]:
        resp = await client.get(path)
        assert resp.status == 200, path
        assert resp.headers["X-Request-ID"].startswith("req_"), path
