"""The real app in process (real Runner, SQLite, local disk) behind aiohttp's test client.

`make_app(fake=MODE, **env)` starts it; with a mode, the fake FFmpeg (tests/support/fakes/
fake_ffmpeg.py) stands in and logs every run, so a test can prove that nothing rendered. `clips`
is the one directory of good inputs the app may read. The bad-input cases (group B) use it:
tests/acceptance/reliability/conftest.py makes both fixtures theirs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.media import make_video
from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.http import create_app

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
POST = "/api/v1/compositions"


class App:
    """A client of the real app, and the fake FFmpeg's invocation log when it is in use."""

    def __init__(self, client: Client, root: Path, argv_log: Path) -> None:
        self.client = client
        self.root = root
        self.argv_log = argv_log

    def renders(self) -> list[list[str]]:
        """Every FFmpeg run the fake saw (its `-version` health checks left out)."""
        if not self.argv_log.exists():
            return []
        runs = [json.loads(line) for line in self.argv_log.read_text().splitlines()]
        return [argv for argv in runs if argv != ["-version"]]

    def blobs(self) -> list[Path]:
        return [p for p in (self.root / "data" / "blobs").rglob("*") if p.is_file()]

    async def post(self, body: Any) -> tuple[int, dict[str, Any]]:
        if isinstance(body, bytes):
            headers = {"Content-Type": "application/json"}
            resp = await self.client.post(POST, data=body, headers=headers)
        else:
            resp = await self.client.post(POST, json=body)
        return resp.status, await resp.json()

    async def finished(self, job_id: str) -> dict[str, Any]:
        async with asyncio.timeout(90):
            while True:
                resp = await self.client.get(f"{POST}/{job_id}")
                body: dict[str, Any] = await resp.json()
                if body["status"] in ("completed", "failed", "cancelled"):
                    return body
                await asyncio.sleep(0.1)

    async def row_count(self) -> int:
        body = await (await self.client.get(f"{POST}?limit=100")).json()
        return len(body["items"])


@pytest.fixture
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of good small inputs, the only one the app may read."""
    root = tmp_path_factory.mktemp("clips")
    make_video(root / "good.mp4", size="160x120", rate=10, seconds=1, tone=440)
    return root


@pytest.fixture
def make_app(
    aiohttp_client: MakeClient,
    tmp_path: Path,
    clips: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Awaitable[App]]:
    """The real app; `fake=MODE` puts the fake FFmpeg (in that mode) in place of the real one."""

    async def make(fake: str | None = None, **env: str) -> App:
        argv_log = tmp_path / "ffmpeg-argv.jsonl"
        values = {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(clips),
            "ALLOWED_S3_BUCKETS": "bucket",
            "X264_PRESET": "ultrafast",
            "MAX_CONCURRENT_JOBS": "1",
            "MAX_ATTEMPTS": "1",
            "RATE_LIMIT_PER_MINUTE": "0",
        }
        if fake is not None:
            monkeypatch.setenv("FAKE_FFMPEG_MODE", fake)
            monkeypatch.setenv("FAKE_FFMPEG_ARGVFILE", str(argv_log))
            monkeypatch.setenv("FAKE_FFMPEG_PIDFILE", str(tmp_path / "ffmpeg.pids"))
            values["FFMPEG_BIN"] = str(FAKE_FFMPEG)
        client = await aiohttp_client(create_app(Settings.from_env(values | env)))
        return App(client, tmp_path, argv_log)

    return make
