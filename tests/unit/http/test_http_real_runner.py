"""The HTTP layer over the real Runner (SQLite + disk + in-process pub/sub), no fakes.

Inputs are missing local files, so every job fails at staging with INPUT_UNAVAILABLE without
rendering: the flow through the API, the WebSocket and the store is what is under test here;
real renders are tests/acceptance/service's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import Client, assert_envelope, receive_all
from vidsvc.config import Settings
from vidsvc.http import create_app
from vidsvc.http.bodies import CompositionStatusSchema

HAVE_FFMPEG = __import__("shutil").which("ffmpeg") is not None


@pytest.fixture
async def real(aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path) -> Client:
    settings = Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(tmp_path),
            "MAX_CONCURRENT_JOBS": "1",
        }
    )
    return await aiohttp_client(create_app(settings))


def doc(tmp_path: Path, name: str = "missing.mp4") -> dict[str, Any]:
    return {"clips": [{"url": (tmp_path / name).as_uri()}], "output": {"resolution": "180p"}}


async def until(client: Client, job_id: str, status: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            body: dict[str, Any] = await (
                await client.get(f"/api/v1/compositions/{job_id}")
            ).json()
            if body["status"] == status:
                return body
            await asyncio.sleep(0.05)


async def test_create_watch_fail_and_read_back(real: Client, tmp_path: Path) -> None:
    resp = await real.post("/api/v1/compositions", json=doc(tmp_path))
    created = await resp.json()
    assert resp.status == 202, created
    job_id = created["composition_id"]
    async with real.session.ws_connect(created["websocket_url"]) as ws:  # absolute, as given
        messages = await receive_all(ws, timeout=20)
        assert ws.close_code == 1000
    assert messages[0]["type"] == "status"
    assert messages[-1]["type"] == "error"
    assert messages[-1]["data"]["code"] == "INPUT_UNAVAILABLE"
    seqs = [m["data"]["seq"] for m in messages]
    assert seqs == sorted(set(seqs)), "seq strictly increases"

    body = await until(real, job_id, "failed")
    assert body["error"]["code"] == "INPUT_UNAVAILABLE" and body["output_url"] is None
    assert CompositionStatusSchema().validate(body) == {}
    resp = await real.get(f"/api/v1/compositions/{job_id}/download")
    assert resp.status == 409
    assert_envelope(await resp.json(), "COMPOSITION_NOT_READY")
    resp = await real.delete(f"/api/v1/compositions/{job_id}")
    assert resp.status == 409
    meta = await (await real.get(f"/api/v1/compositions/{job_id}/metadata")).json()
    assert meta["composition_id"] == job_id and meta["attempts"] >= 1


async def test_list_pages_through_the_store(real: Client, tmp_path: Path) -> None:
    ids = []
    for i in range(5):
        resp = await real.post("/api/v1/compositions", json=doc(tmp_path, f"m{i}.mp4"))
        ids.append((await resp.json())["composition_id"])
    for job_id in ids:
        await until(real, job_id, "failed")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": "2", "status": "failed", **({"cursor": cursor} if cursor else {})}
        body = await (await real.get("/api/v1/compositions", params=query)).json()
        seen += [item["composition_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    body = await (await real.get("/api/v1/compositions?status=queued")).json()
    assert body == {"items": [], "next_cursor": None}


async def test_refusals_at_post_leave_no_job(real: Client, tmp_path: Path) -> None:
    resp = await real.post("/api/v1/compositions", json={"clips": [{"url": "ftp://x/a.mp4"}]})
    assert resp.status == 400
    assert_envelope(await resp.json(), "INVALID_CLIP_FORMAT")
    resp = await real.post("/api/v1/compositions", json={"clips": []})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] in ("INVALID_TIMELINE", "VALIDATION_ERROR")
    body = await (await real.get("/api/v1/compositions")).json()
    assert body["items"] == []


@pytest.mark.parametrize(
    "job_id", ["3f2b8c1e-4a5d-4e6f-9a7b-8c9d0e1f2a3b", "not-a-uuid", "..%2F..%2Fetc%2Fpasswd"]
)
async def test_unknown_ids_are_404_without_database_errors(
    real: Client, job_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for suffix in ["", "/metadata", "/download"]:
        resp = await real.get(f"/api/v1/compositions/{job_id}{suffix}")
        assert resp.status == 404
        assert_envelope(await resp.json(), "COMPOSITION_NOT_FOUND")
    async with real.ws_connect(f"/ws/compositions/{job_id}") as ws:
        await ws.receive(timeout=5)
        assert ws.close_code == 4404
    # the loop-lag monitor's warning says the machine was busy (a loaded CI host), not the store
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in warned if r.name != "vidsvc.runner.looplag"]


@pytest.mark.skipif(not HAVE_FFMPEG, reason="the ffmpeg component needs the binary")
async def test_health_detailed_reports_the_real_components(real: Client) -> None:
    resp = await real.get("/health/detailed")
    body = await resp.json()
    assert resp.status == 200, body
    assert body["components"] == {
        "database": "healthy",
        "redis": "disabled",
        "s3": "disabled",
        "ffmpeg": "healthy",
    }


async def test_beat_sync_without_the_flag_is_refused_naming_the_setting(
    real: Client, tmp_path: Path
) -> None:
    document = doc(tmp_path) | {
        "audio": {"music_url": (tmp_path / "m.mp3").as_uri(), "beat_sync": True}
    }
    resp = await real.post("/api/v1/compositions", json=document)
    body = await resp.json()
    assert resp.status == 400
    assert_envelope(body, "VALIDATION_ERROR")
    assert body["error"]["details"]["field"] == "audio.beat_sync"
    assert "ENABLE_BEAT_DETECTION" in body["error"]["message"]
    listed = await (await real.get("/api/v1/compositions")).json()
    assert listed["items"] == []  # refused before any row was written
