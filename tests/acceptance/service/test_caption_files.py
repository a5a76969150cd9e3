"""Subtitle files through the service (issue 22): a job reads a real-world captions file, draws
only its cues, and records what it read in its metadata (format, encoding, cues, the malformed
cues it skipped); a file with no valid cue fails the job naming `captions.url`.

Real app, real Runner (SQLite, disk), real FFmpeg, in process.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from vidsvc.config import Settings
from vidsvc.http import create_app

pytestmark = pytest.mark.ffmpeg
Client = TestClient  # type: ignore[type-arg]
FILES = Path(__file__).parents[2] / "support" / "subtitles"


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path, media: dict[str, Path]
) -> Client:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("crafted/malformed.srt", "crafted/zh_big5.srt", "srt/gb2312.srt"):
        shutil.copy(FILES / name, subs / Path(name).name)
    (subs / "all_bad.srt").write_bytes(b"1\n00:00:07,000 --> 00:00:11:890\nbroken\n")
    settings = Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": f"{media['a'].parent},{subs}",
            "X264_PRESET": "ultrafast",
            "MAX_CONCURRENT_JOBS": "1",
        }
    )
    return await aiohttp_client(create_app(settings))


async def finished(client: Client, media: dict[str, Path], captions: Path) -> dict[str, Any]:
    body = {
        "clips": [{"url": media["a"].as_uri()}],
        "captions": {"url": captions.as_uri()},
        "output": {"resolution": "180p", "fps": 10},
    }
    resp = await client.post("/api/v1/compositions", json=body)
    assert resp.status == 202, await resp.text()
    job_id = (await resp.json())["composition_id"]
    for _ in range(300):
        got: dict[str, Any] = await (await client.get(f"/api/v1/compositions/{job_id}")).json()
        if got["status"] in ("completed", "failed"):
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"{job_id} did not finish: {got}")


async def metadata(client: Client, job: dict[str, Any]) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/compositions/{job['composition_id']}/metadata")
    meta: dict[str, Any] = await resp.json()
    return meta


async def test_the_job_metadata_says_what_the_file_was_read_as(
    client: Client, media: dict[str, Path], tmp_path: Path
) -> None:
    job = await finished(client, media, tmp_path / "subs" / "malformed.srt")
    assert job["status"] == "completed", job
    assert (await metadata(client, job))["captions"] == {
        "format": "srt",
        "encoding": "utf-8",
        "cues": 3,
        "skipped": [
            {"index": 2, "line": 5, "reason": "a malformed end time '00:00:11:890'"},
            {"index": 3, "line": 9, "reason": "it ends before it starts"},
        ],
        "skipped_total": 2,
    }
    for name, encoding in (("gb2312.srt", "gb18030"), ("zh_big5.srt", "big5")):
        job = await finished(client, media, tmp_path / "subs" / name)
        assert job["status"] == "completed", job
        assert (await metadata(client, job))["captions"]["encoding"] == encoding


async def test_a_file_with_no_valid_cue_fails_the_job_naming_the_field(
    client: Client, media: dict[str, Path], tmp_path: Path
) -> None:
    job = await finished(client, media, tmp_path / "subs" / "all_bad.srt")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "INVALID_CLIP_FORMAT"
    assert job["error"]["details"]["field"] == "captions.url"
    assert (
        "no cue with text and a positive duration (1 malformed, skipped)"
        in (job["error"]["message"])
    )
