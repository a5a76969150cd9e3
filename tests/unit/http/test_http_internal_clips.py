"""/internal/v1/process-clips end to end: real app, real Runner (SQLite, disk), real FFmpeg.

Idempotent processing_id, bearer auth on /internal/*, validation naming the field, results
stored and served through redirects, one FFmpeg run per clip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL as URL_

from tests.support.media import probe, stream
from vidsvc import cliptask
from vidsvc.config import Settings
from vidsvc.http import create_app
from vidsvc.http.clipsbody import ClipsAcceptedSchema, ClipsStatusSchema
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.jobs import JobKind

#: The real Runner's app starts FFmpeg (its checks), and most cases render.
pytestmark = pytest.mark.ffmpeg

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
URL = "/internal/v1/process-clips"
TOKEN = "s3cret-token"


def settings_for(tmp_path: Path, media: dict[str, Path], **env: str) -> Settings:
    return Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(media["a"].parent),
            "X264_PRESET": "ultrafast",
            "MAX_CONCURRENT_JOBS": "1",
        }
        | env
    )


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path, media: dict[str, Path]) -> Client:
    return await aiohttp_client(create_app(settings_for(tmp_path, media)))


def body(media: dict[str, Path], pid: str = "proc-1", **extra: Any) -> dict[str, Any]:
    return {
        "processing_id": pid,
        "clips": [media["a"].as_uri()],
        "operations": ["normalize", "thumbnail"],
        **extra,
    }


async def finished(client: Client, pid: str) -> dict[str, Any]:
    for _ in range(300):
        status: dict[str, Any] = await (await client.get(f"{URL}/{pid}")).json()
        if status["status"] in ("completed", "failed"):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{pid} did not finish: {status}")


async def test_process_two_clips_idempotently(
    client: Client, media: dict[str, Path], tmp_path: Path
) -> None:
    doc = body(media, clips=[media["a"].as_uri(), media["b"].as_uri()])
    doc["operations"] = ["normalize", "color_correct", "thumbnail"]
    doc["options"] = {"color_preset": "warm", "contact_sheet": True}
    first = await client.post(URL, json=doc)
    accepted = await first.json()
    assert first.status == 202, accepted
    ClipsAcceptedSchema().load(accepted)
    assert accepted["processing_id"] == "proc-1" and accepted["status"] == "queued"
    assert accepted["status_url"].endswith(f"{URL}/proc-1")
    again = await client.post(URL, json=doc)  # the client's retry: the same job
    assert again.status == 200
    assert (await again.json())["created_at"] == accepted["created_at"]

    status = await finished(client, "proc-1")
    assert status["status"] == "completed", status
    ClipsStatusSchema().load(status)
    assert status["progress"]["percentage"] == 100 and status["callback"] is None
    assert [r["clip"] for r in status["results"]] == doc["clips"]
    outputs = status["results"][1]["outputs"]
    assert set(outputs) == {"normalized", "thumbnail", "contact_sheet"}
    assert status["results"][1]["probe"]["width"] == 320
    # ultrafast has no CABAC or 8x8dct, so x264 writes Constrained Baseline: not render-ready
    assert status["results"][1]["render_ready"] is None
    resp = await client.get(URL_(outputs["normalized"]).path, allow_redirects=False)
    assert resp.status == 302
    video = await client.get(resp.headers["Location"])
    out = tmp_path / "normalized.mp4"
    out.write_bytes(await video.read())
    assert stream(probe(out), "video")["width"] == 1280
    missing = await client.get(f"{URL}/proc-1/files/5/normalized", allow_redirects=False)
    assert missing.status == 404

    runner = client.server.app[RUNNER_KEY]
    job = await runner.get(JobKind.CLIPS, "proc-1")
    assert len(job.metadata["commands"]) == 2  # one FFmpeg run per clip
    assert all(c.count("-i") == 1 for c in job.metadata["commands"])
    listed = await (await client.get("/api/v1/compositions")).json()
    assert listed["items"] == []  # clips jobs are not compositions


async def test_a_clip_without_video_fails_the_job(client: Client, media: dict[str, Path]) -> None:
    doc = body(media, "proc-audio", clips=[media["voice"].as_uri()], operations=["thumbnail"])
    assert (await client.post(URL, json=doc)).status == 202
    status = await finished(client, "proc-audio")
    assert status["status"] == "failed"
    assert status["error"]["code"] == "INVALID_CLIP_FORMAT" and status["results"] is None


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"processing_id": "bad id!"}, "VALIDATION_ERROR", "processing_id"),
        ({"clips": []}, "VALIDATION_ERROR", "clips"),
        ({"clips": ["x"] * 21}, "VALIDATION_ERROR", "clips"),
        ({"operations": []}, "VALIDATION_ERROR", "operations"),
        ({"operations": ["thumbnail", "thumbnail"]}, "VALIDATION_ERROR", "operations"),
        ({"operations": ["sharpen"]}, "VALIDATION_ERROR", "operations[0]"),
        ({"options": {"color_preset": "sepia"}}, "VALIDATION_ERROR", "options.color_preset"),
        ({"clips": ["file:///etc/passwd"]}, "INVALID_CLIP_FORMAT", "clips[0]"),
        ({"callback_url": "http://127.0.0.1:9/cb"}, "VALIDATION_ERROR", "callback_url"),
    ],
)
async def test_validation_names_the_field(
    client: Client, media: dict[str, Path], change: dict[str, Any], code: str, field: str
) -> None:
    resp = await client.post(URL, json=body(media) | change)
    error = (await resp.json())["error"]
    assert resp.status == 400, error
    assert (error["code"], error["details"]["field"]) == (code, field)


async def test_unknown_processing_id_is_404(client: Client) -> None:
    resp = await client.get(f"{URL}/nope")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "PROCESSING_NOT_FOUND"


async def test_open_without_a_token(client: Client) -> None:
    resp = await client.get(f"{URL}/proc-1")
    assert resp.status == 404  # reached the handler: no 401


async def test_the_callback_gets_the_result_and_the_get_shows_it(
    aiohttp_client: MakeClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    tmp_path: Path,
    media: dict[str, Path],
) -> None:
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/done", receive)
    server = await aiohttp_server(receiver)
    allowed = f"127.0.0.1:{server.port}"
    app = create_app(settings_for(tmp_path, media, ALLOWED_CALLBACK_HOSTS=allowed))
    client = await aiohttp_client(app)
    doc = body(media, "proc-cb", operations=["thumbnail"], callback_url=f"http://{allowed}/done")
    assert (await client.post(URL, json=doc)).status == 202
    assert (await finished(client, "proc-cb"))["status"] == "completed"
    for _ in range(100):
        status = await (await client.get(f"{URL}/proc-cb")).json()
        if status["callback"]["delivered"]:
            break
        await asyncio.sleep(0.1)
    assert status["callback"]["url"] == doc["callback_url"]
    assert status["callback"]["delivered"] and len(status["callback"]["attempts"]) == 1
    assert received[0]["processing_id"] == "proc-cb" and received[0]["status"] == "completed"


async def test_normalized_clip_records_its_render_ready_fingerprint(
    aiohttp_client: MakeClient, media: dict[str, Path], tmp_path: Path
) -> None:
    """Issue 16: the job's result carries the fingerprint a composition will compare."""
    app = create_app(settings_for(tmp_path, media, X264_PRESET="veryfast"))
    client = await aiohttp_client(app)
    doc = body(media, pid="ready-1", clips=[media["b"].as_uri()], operations=["normalize"])
    resp = await client.post(URL, json=doc)
    assert resp.status == 202, await resp.text()
    status = await finished(client, "ready-1")
    assert status["status"] == "completed", status
    ClipsStatusSchema().load(status)
    ready = status["results"][0]["render_ready"]
    assert ready["keyframe_interval"] == cliptask.RENDER_READY.gop_frames
    assert ready["frames"] == 90  # 3 s at 30 fps
    assert "stitchable=1" in ready["x264_options"] and ready["crf"] is not None
    assert len(ready["extradata_sha256"]) == 64
