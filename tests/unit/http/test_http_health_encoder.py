"""/health/detailed's `encoder`: libx264, or h264_nvenc with the start-up check and the session
gate, over the real Runner with the stand-in FFmpeg (tests/support/fakes/nvenc_ffmpeg.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import Client
from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.http import create_app
from vidsvc.http.bodies import HealthDetailedSchema

NVENC_FFMPEG = FAKE_FFMPEG.with_name("nvenc_ffmpeg.py")
MakeClient = Callable[..., Awaitable[Client]]


async def detailed(client: Client) -> dict[str, Any]:
    resp = await client.get("/health/detailed")
    body: dict[str, Any] = await resp.json()
    assert resp.status == 200, body
    assert HealthDetailedSchema().validate(body) == {}
    return body


async def test_without_the_flag_the_encoder_is_libx264(client: Client) -> None:
    assert (await detailed(client))["encoder"] == {"name": "libx264"}


@pytest.mark.ffmpeg
async def test_nvenc_reports_its_check_and_sessions(
    aiohttp_client: MakeClient,
    make_settings: Callable[..., Settings],
    media: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NVENC_MODE", "busy")  # the check passes, every render's session fails
    settings = make_settings(
        DATA_DIR=str(tmp_path / "data"),
        ENABLE_GPU_ENCODING="true",
        FFMPEG_BIN=str(NVENC_FFMPEG),
        NVENC_MAX_SESSIONS="2",
    )
    client = await aiohttp_client(create_app(settings))
    encoder = (await detailed(client))["encoder"]
    check = encoder["check"]
    assert encoder["name"] == "h264_nvenc" and check["result"] == "passed"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", check["at"]) and check["seconds"] > 0
    assert encoder["sessions"] == {"in_use": 0, "max": 2, "waiting": 0, "gave_up": 0}

    clip = {"url": media["a"].as_uri(), "trim_end": 1.0}
    doc = {"clips": [clip], "output": {"resolution": "180p", "fps": 10}}
    resp = await client.post("/api/v1/compositions", json=doc)
    job_id = (await resp.json())["composition_id"]
    async with asyncio.timeout(60):
        while (await (await client.get(f"/api/v1/compositions/{job_id}")).json())[
            "status"
        ] not in ("completed", "failed"):
            await asyncio.sleep(0.05)
    metadata = await (await client.get(f"/api/v1/compositions/{job_id}/metadata")).json()
    assert "libx264" in metadata["command"]  # encoded again on the CPU
    sessions = (await detailed(client))["encoder"]["sessions"]
    assert sessions == {"in_use": 0, "max": 2, "waiting": 0, "gave_up": 1}
