"""`grade` through the HTTP API over the real Runner (SQLite + disk): a LUT URL outside the input
rules and a bad value are refused at POST with the standard envelope naming the field, a bad
`.cube` file is refused by the dry run as the render would fail, and the OpenAPI document
describes the grade."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import Client, assert_envelope
from tests.support.media import make_video
from vidsvc.config import Settings
from vidsvc.http import create_app

MakeReal = Callable[[], Awaitable[Client]]


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


@pytest.fixture
def make_real(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path, allowed: Path
) -> MakeReal:
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


async def refused(client: Client, document: dict[str, Any], query: str = "") -> dict[str, Any]:
    resp = await client.post(f"/api/v1/compositions{query}", json=document)
    body: dict[str, Any] = await resp.json()
    assert resp.status == 400, body
    return body


@pytest.mark.parametrize(
    ("lut_url", "where"),
    [
        ("file:///etc/passwd", "top"),
        ("http://169.254.169.254/latest/teal.cube", "top"),
        ("https://elsewhere.example/teal.cube", "clip"),
        ("file:///etc/../etc/teal.cube", "clip"),
    ],
)
async def test_a_lut_url_outside_the_rules_is_refused_naming_its_field(
    make_real: MakeReal, lut_url: str, where: str
) -> None:
    client = await make_real()
    grade = {"lut_url": lut_url, "lut_intensity": 0.7}
    if where == "top":
        doc, field = {"clips": [{"url": "https://media.example/a.mp4"}], "grade": grade}, ""
    else:
        doc = {"clips": [{"url": "https://media.example/a.mp4", "grade": grade}]}
        field = "clips[0]."
    body = await refused(client, doc)
    assert_envelope(body, "INVALID_CLIP_FORMAT")
    assert body["error"]["details"]["field"] == f"{field}grade.lut_url"
    listed = await (await client.get("/api/v1/compositions")).json()
    assert listed["items"] == []  # nothing was kept


@pytest.mark.parametrize(
    ("grade", "field"),
    [
        ({"lut_intensity": 2}, "lut_intensity"),
        ({"brightness": -1.5}, "brightness"),
        ({"contrast": 3.5}, "contrast"),
        ({"saturation": -0.1}, "saturation"),
        ({"temperature": 500}, "temperature"),
        ({"lut_url": ""}, "lut_url"),
        ({"tint": 1}, "tint"),
    ],
)
async def test_a_bad_grade_value_is_a_validation_error_naming_the_field(
    make_real: MakeReal, grade: dict[str, Any], field: str
) -> None:
    client = await make_real()
    body = await refused(
        client, {"clips": [{"url": "https://media.example/a.mp4"}], "grade": grade}
    )
    assert_envelope(body, "VALIDATION_ERROR")
    assert body["error"]["details"]["field"] == f"grade.{field}"


@pytest.mark.ffmpeg
async def test_the_dry_run_refuses_a_bad_lut_file_as_the_render_would(
    make_real: MakeReal, allowed: Path
) -> None:
    clip = make_video(allowed / "a.mp4", seconds=1, tone=None)
    (allowed / "photo.cube").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (allowed / "big.cube").write_text("LUT_3D_SIZE 300\n0 0 0\n")
    client = await make_real()
    for name, reason in (("photo.cube", "a binary file"), ("big.cube", "LUT_3D_SIZE 300")):
        doc = {"clips": [{"url": clip.as_uri()}, {"url": clip.as_uri(),
               "grade": {"lut_url": (allowed / name).as_uri()}}]}  # fmt: skip
        body = await refused(client, doc, "?dry_run=true")
        assert_envelope(body, "INVALID_CLIP_FORMAT")
        assert body["error"]["details"]["field"] == "clips[1].grade.lut_url"
        assert reason in body["error"]["message"]
        assert str(allowed) not in body["error"]["message"]  # no server paths


async def test_the_grade_is_documented(make_real: MakeReal) -> None:
    client = await make_real()
    doc = await (await client.get("/api/docs/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    (grade,) = [s for name, s in schemas.items() if name.startswith("Grade")]
    props = grade["properties"]
    assert set(props) == {
        "lut_url", "lut_intensity", "brightness", "contrast", "saturation", "temperature"
    }  # fmt: skip
    assert (props["lut_intensity"]["minimum"], props["lut_intensity"]["maximum"]) == (0, 1)
    assert (props["temperature"]["minimum"], props["temperature"]["maximum"]) == (1000, 40000)
    assert ".cube" in props["lut_url"]["description"]
