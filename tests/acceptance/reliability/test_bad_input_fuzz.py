"""B1 at every route: values no layer can keep are a 4xx envelope, never a 500, and leave nothing.

The routes come from the OpenAPI document the app serves, so a new route is fuzzed (or, for a
new JSON route, this file fails until it gives a sample body). Each JSON route's sample body has
every leaf (string, number, boolean) replaced in turn by an unpaired surrogate, a NUL, a
10 000-deep array, a 5000-digit integer and NaN, spliced into the raw JSON; every path and query
parameter is tried with a surrogate's UTF-8 and a NUL, percent-encoded, and escaped.
Deterministic: the values are the ones that were 500s (vidsvc/http/jsonbody.py says why each is
refused). Nothing may be left behind: no job row, no blob, no generated dev media, also when the
dev API is refused after generating.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.real_app import App
from vidsvc.errors import QueueFull
from vidsvc.http.keys import RUNNER_KEY

pytestmark = [pytest.mark.B, pytest.mark.S]
ROOT = Path(__file__).resolve().parents[3]
HOLE = "\x01fuzz\x01"
#: The raw JSON spliced in where HOLE was, and the field the refusal must name ("" = the leaf).
BAD_VALUES = {
    "surrogate": (b'"\\ud800"', ""),
    "nul": (b'"a\\u0000b"', ""),
    "deep": (b"[" * 10_000 + b"]" * 10_000, "body"),
    "bigint": (b"9" * 5000, ""),
    "nan": (b"NaN", ""),
}
#: B1's code, or the one the contract names for a media URL (B3) or overlay text (B9).
CODES = {"VALIDATION_ERROR", "INVALID_CLIP_FORMAT", "INVALID_TIMELINE"}
#: Path and query values: the UTF-8 of U+D800 (invalid), a NUL, and a surrogate escaped twice.
BAD_PARAMS = ["%ED%A0%80", "a%00b", "%00", "%25ud800", "\\ud800"]
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "/api/v1/compositions": [
        json.loads(path.read_text()) for path in sorted((ROOT / "sample_specs").glob("*.json"))
    ],
    "/internal/v1/process-clips": [
        {
            "processing_id": "fuzz-1",
            "clips": ["file:///clips/a.mp4"],
            "operations": ["normalize", "color_correct", "thumbnail"],
            "callback_url": "https://example.com/callback",
            "options": {"color_preset": "auto", "contact_sheet": True, "thumbnail_time": 1.5},
            "user_id": "user-1",
        }
    ],
    "/internal/v1/beat-detection": [{"url": "file:///clips/a.mp4"}],
    "/dev/test-generation": [
        {
            "clips": 1,
            "duration": 0.5,
            "resolution": "180p",
            "with_music": True,
            "with_voiceover": False,
            "user_id": "user-1",
        }
    ],
    "/dev/reset-user": [{"user_id": "user-1"}],
    "/api/v1/templates": [
        {
            "name": "fuzz",
            "composition": {
                "clips": [{"url": "{{SCENE}}", "duration": 2}],
                "overlays": [{"type": "text", "content": "Hi {{NAME}}"}],
                "output": {"resolution": "180p"},
                "metadata": {"project": "p-1"},
            },
        }
    ],
}
ENV = {"ENABLE_DEV_API": "true", "ENABLE_BEAT_DETECTION": "true"}


def holes(document: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """(field path, raw JSON with HOLE's quoted form at that leaf), for every leaf."""

    def walk(node: Any, path: str) -> Iterator[tuple[str, bytes]]:
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in items:
            where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
            if isinstance(value, dict | list):
                yield from walk(value, where)
                continue
            node[key] = HOLE
            yield where, json.dumps(document).encode()
            node[key] = value

    yield from walk(document, "")


def spliced(raw: bytes, value: bytes) -> bytes:
    hole = json.dumps(HOLE).encode()
    assert raw.count(hole) == 1
    return raw.replace(hole, value)


def envelope(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    keys = {"code", "message", "details", "timestamp", "request_id"}
    return isinstance(error, dict) and set(error) == keys


async def openapi(app: App) -> dict[str, Any]:
    document: dict[str, Any] = await (await app.client.get("/api/docs/openapi.json")).json()
    return document


@pytest.mark.ffmpeg
async def test_every_json_route_refuses_every_bad_value_at_every_leaf(
    make_app: Callable[..., Awaitable[App]],
) -> None:
    app = await make_app(**ENV)
    paths = (await openapi(app))["paths"]
    posted = sorted(path for path, ops in paths.items() if "requestBody" in ops.get("post", {}))
    assert posted == sorted(SAMPLES), "a JSON route without a sample body here"
    failures, tried = [], 0
    for route in posted:
        for sample in SAMPLES[route]:
            for field, raw in holes(json.loads(json.dumps(sample))):
                for name, (value, named) in BAD_VALUES.items():
                    headers = {"Content-Type": "application/json"}
                    resp = await app.client.post(route, data=spliced(raw, value), headers=headers)
                    body = await resp.json()
                    tried += 1
                    got = body.get("error", {}).get("details", {}).get("field")
                    code = body.get("error", {}).get("code")
                    if (
                        resp.status != 400
                        or not envelope(body)
                        or got != (named or field)
                        or code not in CODES
                    ):
                        failures.append((route, field, name, resp.status, got))
    assert not failures, failures[:20]
    assert tried > 500  # every sample's every leaf, five ways
    assert await app.row_count() == 0 and app.blobs() == []
    assert not list((app.root / "data" / "dev-media").glob("*/*")), "generated media left"


@pytest.mark.ffmpeg
async def test_every_path_and_query_parameter_takes_bad_values_without_a_500(
    make_app: Callable[..., Awaitable[App]],
) -> None:
    app = await make_app(**ENV)
    paths = (await openapi(app))["paths"]
    failures, tried = [], 0
    for template, ops in paths.items():
        for method, op in ops.items():
            params = op.get("parameters", [])
            for param in params:
                for bad in BAD_PARAMS:
                    url = _url(template, params, param["name"], bad)
                    if param["in"] == "query":
                        url += f"?{param['name']}={bad}"
                    resp = await app.client.request(method.upper(), url)
                    tried += 1
                    text = await resp.text()
                    if resp.status >= 500 or (resp.status >= 400 and not envelope(_json(text))):
                        failures.append((method, url, resp.status, text[:200]))
    assert not failures, failures[:20]
    assert tried > 50
    assert await app.row_count() == 0


@pytest.mark.ffmpeg
@pytest.mark.parametrize("bad", BAD_PARAMS)
async def test_a_websocket_to_a_bad_id_closes_not_found(
    make_app: Callable[..., Awaitable[App]], bad: str
) -> None:
    app = await make_app()
    async with app.client.ws_connect(f"/ws/compositions/{bad}") as ws:
        message = await ws.receive()
    assert ws.close_code == 4404, message


def _url(template: str, params: list[dict[str, Any]], name: str, bad: str) -> str:
    """The template with `bad` for `name` and harmless values for the other path parameters."""
    url = template
    for param in params:
        if param["in"] == "path":
            good = "0" if param["name"] == "index" else "comp_0123456789abcdef"
            value = bad if param["name"] == name else quote(good)
            url = url.replace("{" + param["name"] + "}", value)
    return url


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


@pytest.mark.ffmpeg
async def test_a_refused_test_generation_leaves_no_media(
    make_app: Callable[..., Awaitable[App]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dev API generates its clips before submitting: a refusal at submit (here QUEUE_FULL,
    injected) must take them away again."""
    app = await make_app(**ENV)
    runner = app.client.server.app[RUNNER_KEY]

    async def full(*_: Any, **__: Any) -> Any:
        raise QueueFull("injected", details={"retry_after": 1})

    monkeypatch.setattr(runner, "submit", full)
    body = SAMPLES["/dev/test-generation"][0]
    resp = await app.client.post("/dev/test-generation", json=body)
    assert resp.status == 503 and envelope(await resp.json())
    media = app.root / "data" / "dev-media"
    assert media.is_dir() and not list(media.iterdir()), "generated media left behind"
