"""A composition made from a template renders for real: real app, real Runner (SQLite, disk),
real FFmpeg, in process. The merged values reach the output (its length and frame rate), and
a dry run by template_id plans the same composition."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.media import probe, stream
from vidsvc.config import Settings
from vidsvc.http import create_app

pytestmark = pytest.mark.ffmpeg
Client = TestClient  # type: ignore[type-arg]

TEMPLATE: dict[str, Any] = {
    "clips": [
        {"url": "{{CLIP}}", "trim_start": 0, "trim_end": "{{LENGTH}}"},
        {"url": "{{CLIP}}", "trim_start": 1, "trim_end": 2, "transition_in": "{{TRANSITION}}",
         "transition_duration": 0.25},
    ],
    "overlays": [{"type": "text", "content": "Hello {{NAME}}", "start_time": 0, "duration": 1}],
    "output": {"resolution": "180p", "fps": "{{FPS}}"},
}  # fmt: skip


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path, media: dict[str, Path]
) -> Client:
    settings = Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(media["a"].parent),
            "X264_PRESET": "ultrafast",
            "MAX_CONCURRENT_JOBS": "1",
        }
    )
    return await aiohttp_client(create_app(settings))


async def finished(client: Client, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            body: dict[str, Any] = await (
                await client.get(f"/api/v1/compositions/{job_id}")
            ).json()
            if body["status"] in ("completed", "failed", "cancelled"):
                return body
            await asyncio.sleep(0.1)


async def test_a_merged_template_renders(
    client: Client, media: dict[str, Path], tmp_path: Path
) -> None:
    resp = await client.post("/api/v1/templates", json={"name": "intro", "composition": TEMPLATE})
    saved = await resp.json()
    assert resp.status == 201, saved
    assert saved["placeholders"] == ["CLIP", "LENGTH", "TRANSITION", "NAME", "FPS"]
    merge = {"CLIP": media["a"].as_uri(), "LENGTH": 1.5, "TRANSITION": "crossfade",
             "NAME": "Ada \"{{FPS}}\" : 100%", "FPS": 12}  # fmt: skip
    body = {"template_id": saved["template_id"], "merge": merge}

    resp = await client.post("/api/v1/compositions", params={"dry_run": "true"}, json=body)
    plan = (await resp.json())["plan"]
    assert resp.status == 200 and plan["fps"] == 12
    assert plan["duration"] == pytest.approx(1.5 + 1 - 0.25)  # the crossfade overlaps
    assert [c["transition_in"] for c in plan["clips"]] == ["cut", "crossfade"]

    resp = await client.post("/api/v1/compositions", json=body)
    accepted = await resp.json()
    assert resp.status == 202, accepted
    job_id = accepted["composition_id"]
    done = await finished(client, job_id)
    assert done["status"] == "completed", done
    request = await (await client.get(f"/api/v1/compositions/{job_id}/request")).json()
    assert request["overlays"][0]["content"] == 'Hello Ada "{{FPS}}" : 100%'  # merged once

    resp = await client.get(f"/api/v1/compositions/{job_id}/download", allow_redirects=False)
    video = await client.get(resp.headers["Location"])
    out = tmp_path / "from-template.mp4"
    out.write_bytes(await video.read())
    info = probe(out)
    picture = stream(info, "video")
    assert Fraction(picture["avg_frame_rate"]) == 12
    assert float(info["format"]["duration"]) == pytest.approx(2.25, abs=0.15)
    assert picture["height"] == 180
