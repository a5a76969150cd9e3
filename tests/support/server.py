"""A real `vidsvc serve` process with real FFmpeg, which tests can kill and restart.

Shared by tests/acceptance/service and tests/acceptance/reliability: their conftests import the
fixtures from here. composition() and tiny() build the documents it is sent.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.media import make_video
from tests.support.ports import free_port


def ffmpeg_pids(under: Path) -> list[int]:
    """Live FFmpeg processes working under `under` (their cwd is a job workspace there)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0]
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().split(") ")[1][0]
        except OSError:
            continue
        if argv0.endswith(b"ffmpeg") and cwd.startswith(str(under)) and state != "Z":
            pids.append(int(entry.name))
    return pids


class Server:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(root / "data"),
            "TMP_DIR": str(root / "tmp"),
            "X264_PRESET": "ultrafast",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / "server.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "vidsvc", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                assert self.proc.poll() is None, self.log.read_text()[-3000:]
                time.sleep(0.1)
        raise AssertionError("server did not start: " + self.log.read_text()[-3000:])

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough (8 s of 720p at preset medium) that a render is caught in the middle."""
    d = tmp_path_factory.mktemp("svc-media")
    return make_video(d / "long.mp4", size="1280x720", rate=30, seconds=8, tone=440)


@pytest.fixture
def server(tmp_path: Path, long_clip: Path) -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def make(**env: str) -> Server:
        srv = Server(tmp_path, {"ALLOWED_LOCAL_DIRS": str(long_clip.parent), **env})
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


def composition(clip: Path, **output: Any) -> dict[str, Any]:
    return {
        "clips": [{"url": clip.as_uri()}],
        "output": {"resolution": "720p", "fps": 30, "preset": "medium", **output},
    }


def tiny(clip: Path, **output: Any) -> dict[str, Any]:
    return {
        "clips": [{"url": clip.as_uri()}],
        "output": {"resolution": "180p", "fps": 10, "preset": "ultrafast", **output},
    }


async def wait_for(
    http: aiohttp.ClientSession, url: str, done: Callable[[dict[str, Any]], bool], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            async with http.get(url) as resp:
                body = await resp.json()
            if done(body):
                return body
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out; last: {body}")
