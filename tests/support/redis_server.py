"""A real Redis for tests, as a pytest plugin (`-p tests.support.redis_server`).

`redis_url` names VIDSVC_TEST_REDIS_URL when set, else a throwaway `redis-server` (no RDB, no
AOF) started on a free port in a temp dir for the session. Tests share it through a fresh key
prefix each (`redis_prefix`), whose keys are deleted afterwards, so a shared server stays clean.
`redis_server` is the handle of the throwaway server, for tests that stop or restart Redis.
Without a server: skipped locally, a failure under CI=true (a silent skip would hide a gap).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.ports import free_port

ENV_URL = "VIDSVC_TEST_REDIS_URL"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process that can be stopped and started again on the same port."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        argv += ["--logfile", str(self.workdir / "redis.log")]
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not _answers(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start; see {self.workdir}/redis.log")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM (clients see their connections close, as on a real restart) and wait."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer | None]:
    """The throwaway server, or None when VIDSVC_TEST_REDIS_URL names one to use instead."""
    if os.environ.get(ENV_URL):
        yield None
        return
    binary = shutil.which("redis-server")
    if binary is None:
        _missing(f"no redis-server on PATH and {ENV_URL} is unset")
        return  # unreachable: _missing raises; keeps type checkers happy
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(_redis_server: RedisServer | None) -> str:
    return _redis_server.url if _redis_server else os.environ[ENV_URL]


@pytest.fixture
def redis_server(_redis_server: RedisServer | None) -> Iterator[RedisServer]:
    """The throwaway server, for fault tests; restarted if a test left it stopped."""
    if _redis_server is None:
        pytest.skip(f"stops Redis or counts its clients: needs our own server, not {ENV_URL}")
    yield _redis_server
    if not _answers(_redis_server.port):
        _redis_server.start()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"vidsvc-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    try:
        with redis.Redis.from_url(
            redis_url, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        ) as client:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
    except redis.ConnectionError:
        pass  # a fault test left the server down; its fixture restarts it with no data
