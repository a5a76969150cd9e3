"""The embedded service end to end, in process: real app, real Runner (SQLite, disk), real FFmpeg.

create → WebSocket progress → completed → download → ffprobe; metadata; list; cancel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from tests.support.media import probe, stream
from vidsvc.config import Settings
from vidsvc.http import create_app

pytestmark = pytest.mark.ffmpeg
Client = TestClient  # type: ignore[type-arg]


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
            "HEARTBEAT_SECONDS": "0.5",
        }
    )
    return await aiohttp_client(create_app(settings))


def doc(clip: Path, **extra: Any) -> dict[str, Any]:
    return {
        "clips": [{"url": clip.as_uri()}],
        "output": {"resolution": "180p", "fps": 10},
        **extra,
    }


async def create(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post("/api/v1/compositions", json=body)
    created: dict[str, Any] = await resp.json()
    assert resp.status == 202, created
    assert resp.headers["Location"] == f"/api/v1/compositions/{created['composition_id']}"
    return created


async def test_create_watch_download(
    client: Client, media: dict[str, Path], tmp_path: Path
) -> None:
    created = await create(client, doc(media["a"]))
    job_id = created["composition_id"]
    assert job_id.startswith("comp_") and created["status"] == "queued"
    assert created["websocket_url"].endswith(f"/ws/compositions/{job_id}")
    assert created["estimated_duration"] > 0

    messages = []
    async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        async for msg in ws:
            assert msg.type == WSMsgType.TEXT
            messages.append(msg.json())
        assert ws.close_code == 1000
    assert messages[0]["type"] == "status"
    assert messages[-1]["type"] == "completed", messages[-1]
    progress = [m["data"] for m in messages if m["type"] == "progress"]
    percentages = [p["percentage"] for p in progress]
    assert percentages == sorted(percentages)
    assert {"stage", "percentage", "message", "timestamp"} <= set(progress[0])

    body = await (await client.get(f"/api/v1/compositions/{job_id}")).json()
    assert body["status"] == "completed" and body["error"] is None
    assert body["progress"]["percentage"] == 100
    assert body["output_url"]

    resp = await client.get(f"/api/v1/compositions/{job_id}/download", allow_redirects=False)
    assert resp.status == 302
    video = await client.get(resp.headers["Location"])
    assert video.status == 200
    out = tmp_path / "downloaded.mp4"
    out.write_bytes(await video.read())
    assert stream(probe(out), "video")["width"] == 320
    ranged = await client.get(resp.headers["Location"], headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(await ranged.read()) == 100

    meta = await (await client.get(f"/api/v1/compositions/{job_id}/metadata")).json()
    assert meta["attempts"] == 1
    assert "encoding" in meta["timings"]
    assert meta["command"][0] == "ffmpeg" and "-filter_complex" in meta["command"]
    assert meta["output"]["duration"] == pytest.approx(3.0, abs=0.1)


async def test_cancel_queued_and_running(client: Client, media: dict[str, Path]) -> None:
    slow = doc(media["a"], output={"resolution": "720p", "fps": 30, "preset": "veryslow"})
    running = (await create(client, slow))["composition_id"]
    queued = (await create(client, slow))["composition_id"]
    for _ in range(100):
        body = await (await client.get(f"/api/v1/compositions/{running}")).json()
        if body["status"] == "processing":
            break
        await asyncio.sleep(0.1)
    resp = await client.delete(f"/api/v1/compositions/{queued}")
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    resp = await client.delete(f"/api/v1/compositions/{running}")
    assert resp.status in (200, 202)
    for _ in range(100):
        body = await (await client.get(f"/api/v1/compositions/{running}")).json()
        if body["status"] == "cancelled":
            break
        await asyncio.sleep(0.1)
    assert body["status"] == "cancelled"
    listed = await (await client.get("/api/v1/compositions?status=cancelled")).json()
    assert {i["composition_id"] for i in listed["items"]} == {running, queued}
    resp = await client.get(f"/api/v1/compositions/{running}/download", allow_redirects=False)
    assert resp.status == 409


async def test_inputs_refused_at_post_or_failed_in_the_job(
    client: Client, media: dict[str, Path], tmp_path: Path
) -> None:
    outside = await client.post("/api/v1/compositions", json=doc(tmp_path / "x.mp4"))
    error = (await outside.json())["error"]
    assert outside.status == 400 and error["code"] == "INVALID_CLIP_FORMAT"
    assert error["details"]["field"] == "clips[0].url"

    created = await create(client, doc(media["a"].parent / "missing.mp4"))
    job_id = created["composition_id"]
    for _ in range(100):
        body = await (await client.get(f"/api/v1/compositions/{job_id}")).json()
        if body["status"] == "failed":
            break
        await asyncio.sleep(0.1)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "INPUT_UNAVAILABLE"
