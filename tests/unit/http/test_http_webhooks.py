"""POST /api/v1/compositions' `callback_url` and `metadata` at the door: the callback policy
(SSRF) and the metadata's shape and size, refused with a 400 naming the field before any row
exists (POST and dry run alike), and both fields in the OpenAPI document. The real app and
Runner; nothing renders (the fake FFmpeg stands by)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.support.http_app import Client, assert_envelope
from tests.support.real_app import App, clips, make_app
from vidsvc.schema.webhook import METADATA_MAX_BYTES, metadata_size

__all__ = ["clips", "make_app"]  # fixtures

POST = "/api/v1/compositions"
LISTED = "127.0.0.1:8123"  #: the one internal host:port the tests allow


@pytest.fixture
async def app(make_app: Callable[..., Awaitable[App]]) -> App:
    return await make_app(fake="sleep:0.3", ALLOWED_CALLBACK_HOSTS=LISTED)


def doc(clips: Path, **extra: Any) -> dict[str, Any]:
    return {"clips": [{"url": (clips / "good.mp4").as_uri()}], **extra}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8124/hook",  # internal, and not the listed port
        "http://127.0.0.1/hook",
        "http://127.1:8123/hook",  # the listed address in another spelling is not listed
        "http://localhost:8123/hook",
        "http://[::1]:8123/hook",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata address
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.5/hook",
        "ftp://hooks.example/x",
        "http://user:pw@127.0.0.1:8123/hook",
        "not a url",
    ],
)
async def test_a_refused_callback_url_is_a_400_naming_it(app: App, clips: Path, url: str) -> None:
    for path in (POST, f"{POST}?dry_run=true"):
        resp = await app.client.post(path, json=doc(clips, callback_url=url))
        body = await resp.json()
        assert resp.status == 400, body
        assert_envelope(body, "VALIDATION_ERROR")
        assert body["error"]["details"]["field"] == "callback_url"
    assert await app.row_count() == 0


async def test_a_listed_host_is_accepted(app: App, clips: Path) -> None:
    status, body = await app.post(doc(clips, callback_url=f"http://{LISTED}/hook"))
    assert status == 202, body


@pytest.mark.parametrize("value", [[1, 2], "p-42", 3, True, {"k": "x" * METADATA_MAX_BYTES}])
async def test_metadata_not_an_object_or_over_4_kib_is_refused(
    app: App, clips: Path, value: Any
) -> None:
    status, body = await app.post(doc(clips, metadata=value))
    assert status == 400, body
    assert_envelope(body, "VALIDATION_ERROR")
    assert body["error"]["details"]["field"] == "metadata"
    assert await app.row_count() == 0


async def test_metadata_up_to_4_kib_is_kept_and_echoed(app: App, clips: Path) -> None:
    exact = {"k": "é" * ((METADATA_MAX_BYTES - 8) // 2)}  # two bytes each in UTF-8
    assert metadata_size(exact) == METADATA_MAX_BYTES
    status, created = await app.post(doc(clips, metadata=exact))
    assert status == 202, created
    got = await (await app.client.get(f"{POST}/{created['composition_id']}")).json()
    assert got["metadata"] == exact
    status, plain = await app.post(doc(clips, metadata=None))
    assert status == 202
    got = await (await app.client.get(f"{POST}/{plain['composition_id']}")).json()
    assert got["metadata"] is None


async def test_the_fields_are_documented(client: Client) -> None:
    document = await (await client.get("/api/docs/openapi.json")).json()
    validate(document)
    schemas = document["components"]["schemas"]
    body = schemas["Composition"]["properties"]
    assert body["callback_url"]["type"] == "string" and body["callback_url"]["nullable"]
    assert body["metadata"]["type"] == "object" and body["metadata"]["nullable"]
    assert "4096" in body["metadata"]["description"]
    status = schemas["CompositionStatus"]
    assert "metadata" in status["required"] and status["properties"]["metadata"]["nullable"]
