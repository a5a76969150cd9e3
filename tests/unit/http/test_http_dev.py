"""The dev API over the real Runner: absent without ENABLE_DEV_API, real lavfi media with it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import Client, assert_envelope
from vidsvc.config import Settings
from vidsvc.http import create_app
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.jobs import JobKind
from vidsvc.media.probe import probe
from vidsvc.work import devmedia

MakeClient = Callable[..., Awaitable[Client]]


def settings(tmp_path: Path, **env: str) -> Settings:
    base = {
        "DATA_DIR": str(tmp_path / "data"),
        "TMP_DIR": str(tmp_path / "tmp"),
        "MAX_CONCURRENT_JOBS": "1",
    }
    return Settings.from_env({**base, **env})


async def status_of(client: Client, job_id: str, want: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            body: dict[str, Any] = await (
                await client.get(f"/api/v1/compositions/{job_id}")
            ).json()
            if body["status"] == want or body["status"] in ("failed", "cancelled"):
                return body
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("path", ["/dev/test-generation", "/dev/reset-user"])
async def test_dev_routes_do_not_exist_without_the_flag(
    aiohttp_client: MakeClient, tmp_path: Path, path: str
) -> None:
    client = await aiohttp_client(create_app(settings(tmp_path)))
    resp = await client.post(path, json={"user_id": "u"})
    assert resp.status == 404
    assert_envelope(await resp.json(), "NOT_FOUND")


async def test_bad_bodies_are_validation_errors(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(settings(tmp_path, ENABLE_DEV_API="true")))
    for body, field in [
        ({"clips": 6}, "clips"),
        ({"duration": 11}, "duration"),
        ({"resolution": "1080p"}, "resolution"),
        ({"with_music": "yes"}, "with_music"),
    ]:
        resp = await client.post("/dev/test-generation", json=body)
        assert resp.status == 400
        doc = await resp.json()
        assert_envelope(doc, "VALIDATION_ERROR")
        assert doc["error"]["details"]["field"] == field
    resp = await client.post("/dev/reset-user", json={})
    assert resp.status == 400


@pytest.mark.ffmpeg
async def test_generation_completes_and_reset_user_deletes_it(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    app = create_app(settings(tmp_path, ENABLE_DEV_API="true", X264_PRESET="ultrafast"))
    client = await aiohttp_client(app)
    body = {"clips": 2, "duration": 1, "resolution": "180p", "with_music": True}
    resp = await client.post("/dev/test-generation", json={**body, "with_voiceover": True})
    created = await resp.json()
    assert resp.status == 202, created
    assert created["websocket_url"].startswith("ws") and created["status_url"]
    assert len(created["media"]) == 4
    assert all(m.startswith("file://") and "/dev-media/" in m for m in created["media"])
    resp = await client.post("/dev/test-generation", json={**body, "user_id": "dev-user"})
    mine = await resp.json()
    assert resp.status == 202, mine

    done = await status_of(client, created["composition_id"], "completed")
    assert done["status"] == "completed", done
    finished = await status_of(client, mine["composition_id"], "completed")
    assert finished["status"] == "completed", finished
    runner = app[RUNNER_KEY]
    job = await runner.get(JobKind.COMPOSITION, mine["composition_id"])
    keys = devmedia.blob_keys(job)
    assert keys and all([await runner.stores.blobs.exists(k) for k in keys])

    resp = await client.post("/dev/reset-user", json={"user_id": "dev-user"})
    assert await resp.json() == {"user_id": "dev-user", "deleted": 1, "skipped_running": 0}
    assert (await client.get(f"/api/v1/compositions/{mine['composition_id']}")).status == 404
    assert not any([await runner.stores.blobs.exists(k) for k in keys])
    assert (await client.get(f"/api/v1/compositions/{created['composition_id']}")).status == 200


@pytest.mark.ffmpeg
async def test_the_most_clips_with_the_defaults_render(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    """Every source in the rotation (testsrc2, smptebars, mandelbrot, …) generates and the
    composition of MAX_CLIPS of them completes; only size and length are made small."""
    app = create_app(settings(tmp_path, ENABLE_DEV_API="true", X264_PRESET="ultrafast"))
    client = await aiohttp_client(app)
    body = {"clips": devmedia.MAX_CLIPS, "duration": 1, "resolution": "180p"}
    resp = await client.post("/dev/test-generation", json=body)
    created = await resp.json()
    assert resp.status == 202, created
    assert len(created["media"]) == devmedia.MAX_CLIPS
    done = await status_of(client, created["composition_id"], "completed")
    assert done["status"] == "completed", done


@pytest.mark.ffmpeg
async def test_every_source_generates_with_the_default_size_and_length(tmp_path: Path) -> None:
    """MAX_CLIPS clips at the defaults (360p, 3 s): each one decodes at that size and length."""
    conf = settings(tmp_path, ENABLE_DEV_API="true")
    req = devmedia.parse_request({"clips": devmedia.MAX_CLIPS})
    media = await devmedia.generate(conf, req)
    assert len(media.clips) == devmedia.MAX_CLIPS
    for n, path in enumerate(media.clips):
        info = await probe(path, conf, field=f"clips[{n}]")
        assert (info.width, info.height) == devmedia.DEV_RESOLUTIONS["360p"]
        assert info.has_video and info.has_audio
        assert abs(info.duration_ms - 3000) <= 100, (n, info)
