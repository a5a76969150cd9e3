"""RELIABILITY.md group S, S10–S11: output confinement and the internal endpoint."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.callback_sink import (
    quick_backoff,
    receiver,
)
from vidsvc.config import Settings
from vidsvc.http import create_app
from vidsvc.store.disk import LocalBlobStore

__all__ = ["quick_backoff", "receiver"]  # fixtures from elsewhere

pytestmark = pytest.mark.S
Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]


# -- S1: drawtext escaping and quote breakout ---------------------------------------------------
# -- S10: output confinement --------------------------------------------------------------------


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(b"video bytes")
    return path


async def test_disk_refuses_a_planted_directory_symlink(tmp_path: Path, source: Path) -> None:
    """S10: a symlink planted in the blob directory cannot redirect a write."""
    store = LocalBlobStore(tmp_path / "blobs")
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "outputs").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        await store.put_file("outputs/x.mp4", source, content_type="video/mp4")
    with pytest.raises(ValueError):
        await store.put_file("outputs/deeper/x.mp4", source, content_type="video/mp4")
    assert list(outside.iterdir()) == []
    with pytest.raises(ValueError):
        store.local_path("outputs/x.mp4")


async def test_disk_refuses_a_planted_file_symlink(tmp_path: Path) -> None:
    """S10: nor make the store read or serve a file outside (moved like the above)."""
    store = LocalBlobStore(tmp_path / "blobs")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    (store.root / "leak.mp4").symlink_to(secret)
    with pytest.raises(ValueError):
        await store.get_file("leak.mp4", tmp_path / "got")
    with pytest.raises(ValueError):
        store.local_path("leak.mp4")
    assert not (tmp_path / "got").exists()


def _app_settings(tmp_path: Path, clip_dir: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(clip_dir),
            "X264_PRESET": "ultrafast",
            "MAX_CONCURRENT_JOBS": "1",
            "MAX_ATTEMPTS": "1",
            "RATE_LIMIT_PER_MINUTE": "0",
        }
        | env
    )


async def _finished(client: Client, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(90):
        while True:
            body: dict[str, Any] = await (
                await client.get(f"/api/v1/compositions/{job_id}")
            ).json()
            if body["status"] in ("completed", "failed", "cancelled"):
                return body
            await asyncio.sleep(0.1)


@pytest.mark.ffmpeg
@pytest.mark.parametrize("cache", ["true", "false"])
async def test_outputs_are_keyed_by_job_and_token_and_stay_in_the_blob_dir(
    aiohttp_client: MakeClient, tmp_path: Path, gray: Path, cache: str
) -> None:
    """S10: the stored files are exactly outputs/{job_id}/{token}.mp4|.jpg; with `outputs`
    replaced by a symlink to a directory outside, the same job again fails and nothing lands
    there, whether it is rendered afresh or copied from the render cache."""
    settings = _app_settings(tmp_path, gray.parent, ENABLE_RENDER_CACHE=cache)
    client = await aiohttp_client(create_app(settings))
    doc = {"clips": [{"url": gray.as_uri()}], "output": {"resolution": "180p", "fps": 10}}
    resp = await client.post("/api/v1/compositions", json=doc)
    job_id = (await resp.json())["composition_id"]
    assert (await _finished(client, job_id))["status"] == "completed"
    blobs = tmp_path / "data" / "blobs"
    stored = sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file())
    assert len(stored) == 2, stored
    for key in stored:
        assert re.fullmatch(rf"outputs/{job_id}/[A-Za-z0-9_-]+\.(mp4|jpg)", key), key
    assert len({Path(k).stem for k in stored}) == 1  # one token for both

    outside = tmp_path / "outside"
    outside.mkdir()
    (blobs / "outputs").rename(tmp_path / "old-outputs")
    (blobs / "outputs").symlink_to(outside, target_is_directory=True)
    resp = await client.post("/api/v1/compositions", json=doc)
    job_id = (await resp.json())["composition_id"]
    body = await _finished(client, job_id)
    assert body["status"] == "failed" and body["output_url"] is None, body
    assert body["error"]["code"] in ("STORAGE_ERROR", "PROCESSING_FAILED"), body
    assert list(outside.rglob("*")) == []


# S10, not applicable: "downloads use the bucket-scoped credentials only" is configuration (one
# S3 client with the service's credentials; inputs come from ALLOWED_S3_BUCKETS), not a code path.


# -- S11: the internal endpoint ----------------------------------------------------------------

TOKEN = "s3cret-token"
INTERNAL = "/internal/v1/process-clips"


@pytest.mark.ffmpeg
async def test_bearer_token_is_required_when_set(
    aiohttp_client: MakeClient, tmp_path: Path, gray: Path
) -> None:
    """S11: no or a wrong token is 401
    before the body is read, no job is created; the right token is 202."""
    app = create_app(_app_settings(tmp_path, gray.parent, INTERNAL_API_TOKEN=TOKEN))
    client = await aiohttp_client(app)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        resp = await client.post(INTERNAL, data=b"not even json", headers=headers)
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "UNAUTHORIZED"
    assert (await client.get(f"{INTERNAL}/proc-1", headers={})).status == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.get(f"{INTERNAL}/proc-1", headers=auth)).status == 404  # never created
    body = {"processing_id": "proc-1", "clips": [gray.as_uri()], "operations": ["thumbnail"]}
    resp = await client.post(INTERNAL, json=body, headers=auth)
    assert resp.status == 202
    assert (await client.get("/health")).status == 200  # only /internal/* is guarded


async def test_the_internal_endpoint_validates_like_the_public_one(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    """S11: S7 and S10 apply to it: internal callback and refused clip URLs are 400s naming
    the field, and create nothing."""
    client = await aiohttp_client(create_app(_app_settings(tmp_path, tmp_path)))
    cases = [
        ({"clips": ["s3://allowed/../x.mp4"]}, "INVALID_CLIP_FORMAT", "clips[0]"),
        ({"clips": ["file:///etc/passwd"]}, "INVALID_CLIP_FORMAT", "clips[0]"),
        ({"callback_url": "http://169.254.169.254/"}, "VALIDATION_ERROR", "callback_url"),
        ({"callback_url": "http://[::ffff:127.0.0.1]/"}, "VALIDATION_ERROR", "callback_url"),
    ]
    for i, (change, code, field) in enumerate(cases):
        pid = f"p-{i}"
        doc = {"processing_id": pid, "clips": [(tmp_path / "a.mp4").as_uri()]}
        resp = await client.post(INTERNAL, json=doc | {"operations": ["thumbnail"]} | change)
        error = (await resp.json())["error"]
        assert resp.status == 400 and (error["code"], error["details"]["field"]) == (code, field)
        assert (await client.get(f"{INTERNAL}/{pid}")).status == 404
