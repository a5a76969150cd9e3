"""Templates over the real Runner (SQLite + disk), no fakes: a merged URL goes through the input
URL rules like any composition's, and templates are kept in the database across restarts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import Client, assert_envelope
from vidsvc.config import Settings
from vidsvc.http import create_app

MakeReal = Callable[[], Awaitable[Client]]


@pytest.fixture
def make_real(aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path) -> MakeReal:
    allowed = tmp_path / "media"
    allowed.mkdir()

    async def make() -> Client:
        settings = Settings.from_env(
            {
                "DATA_DIR": str(tmp_path / "data"),
                "TMP_DIR": str(tmp_path / "tmp"),
                "ALLOWED_LOCAL_DIRS": str(allowed),
                "ALLOWED_URL_HOSTS": "media.example",
                "MAX_CONCURRENT_JOBS": "1",
                "RATE_LIMIT_PER_MINUTE": "0",
            }
        )
        return await aiohttp_client(create_app(settings))

    return make


async def save(client: Client, composition: dict[str, Any]) -> str:
    resp = await client.post("/api/v1/templates", json={"name": "t", "composition": composition})
    body = await resp.json()
    assert resp.status == 201, body
    template_id: str = body["template_id"]
    return template_id


@pytest.mark.parametrize(
    ("merge", "field"),
    [
        ({"CLIP": "file:///etc/passwd"}, "clips[0].url"),
        ({"CLIP": "http://127.0.0.1:9/a.mp4"}, "clips[0].url"),
        ({"CLIP": "https://elsewhere.example/a.mp4"}, "clips[0].url"),
        ({"CLIP": "s3://bucket/a.mp4"}, "clips[0].url"),
        ({"CLIP": "https://media.example/a.mp4", "HOST": "evil.example"}, "clips[1].url"),
    ],
)
async def test_a_merged_url_outside_the_rules_is_refused_naming_the_field(
    make_real: MakeReal, merge: dict[str, Any], field: str
) -> None:
    client = await make_real()
    template_id = await save(
        client,
        {"clips": [{"url": "{{CLIP}}"}, {"url": "https://{{HOST}}/b.mp4"}]},
    )
    merge = {"HOST": "media.example", **merge}
    resp = await client.post(
        "/api/v1/compositions", json={"template_id": template_id, "merge": merge}
    )
    body = await resp.json()
    assert resp.status == 400, body
    assert_envelope(body, "INVALID_CLIP_FORMAT")
    assert body["error"]["details"]["field"] == field
    listed = await (await client.get("/api/v1/compositions")).json()
    assert listed["items"] == []  # nothing was kept


async def test_templates_are_kept_in_the_database(make_real: MakeReal) -> None:
    first = await make_real()
    composition = {"clips": [{"url": "https://media.example/{{NAME}}.mp4", "volume": "{{V}}"}]}
    template_id = await save(first, composition)
    await first.close()
    again = await make_real()  # a new app and Runner on the same SQLite file
    got = await (await again.get(f"/api/v1/templates/{template_id}")).json()
    assert got["composition"] == composition and got["placeholders"] == ["NAME", "V"]
    body = {"template_id": template_id, "merge": {"NAME": "intro", "V": 0.5}}
    resp = await again.post("/api/v1/compositions", json=body)
    accepted = await resp.json()
    assert resp.status == 202, accepted
    request = f"/api/v1/compositions/{accepted['composition_id']}/request"
    kept = await (await again.get(request)).json()
    assert kept["clips"] == [{"url": "https://media.example/intro.mp4", "volume": 0.5}]
    assert (await again.delete(f"/api/v1/templates/{template_id}")).status == 204
