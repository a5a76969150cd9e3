"""A real `vidsvc serve` subprocess for the service measures: start, health, CPU, stop.

The server runs the embedded defaults (SQLite, in-process queue and pub/sub, local blobs)
in a fresh state directory, so every benchmark run starts from the same empty service.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp

HEALTH_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0
#: Backends that, inherited from the caller's environment, would take the server out of
#: the embedded mode this benchmark measures; they are blanked.
EXTERNAL_BACKENDS = ("DATABASE_URL", "REDIS_URL", "AWS_S3_BUCKET", "AWS_ENDPOINT_URL")
#: The benchmark renders the same composition many times and POSTs in bursts: a render cache
#: would answer repeats without rendering, and the POST rate limit would turn bursts away.
BENCH_ENV = {"ENABLE_RENDER_CACHE": "false", "RATE_LIMIT_PER_MINUTE": "0"}
_TICK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Cpu:
    """CPU seconds from /proc/<pid>/stat: the process itself, and its reaped children."""

    own: float
    children: float

    @property
    def total(self) -> float:
        return self.own + self.children

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.own - other.own, self.children - other.children)


def process_cpu(pid: int) -> Cpu:
    """utime+stime and cutime+cstime of `pid`.

    cutime/cstime grow when the process waits for a child, so an FFmpeg or ffprobe
    run is counted once the server has reaped it (before it reports the job done).
    """
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state) of proc(5)
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return Cpu((utime + stime) / _TICK, (cutime + cstime) / _TICK)


def loop_sched(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of `pid`'s main thread.

    The main thread runs the event loop that answers every request, so its run-queue wait
    is the part of a request's latency that is the scheduler's, not the service's.
    """
    on_cpu, waiting, _ = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` in KiB (resident memory, shared pages included)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ServerFailed(f"no VmRSS for pid {pid}")


class Server:
    """`python -m vidsvc serve` on a free loopback port, logging to `root/server.log`."""

    def __init__(
        self,
        root: Path,
        media_dir: Path,
        concurrency: int,
        extra_env: Mapping[str, str] | None = None,
        cores: str | None = None,
    ) -> None:
        self.root = root
        self.cores = cores  #: `taskset -c` this list (its FFmpeg children inherit it)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "server.log"
        self.env = {
            **os.environ,
            **dict.fromkeys(EXTERNAL_BACKENDS, ""),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(root / "data"),
            "TMP_DIR": str(root / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(media_dir.resolve()),
            "LOG_LEVEL": "WARNING",
            "MAX_CONCURRENT_JOBS": str(concurrency),
            **BENCH_ENV,
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None
        self.stop_seconds: float | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ServerFailed("the server is not running")
        return self.proc.pid

    def cpu(self) -> Cpu:
        return process_cpu(self.pid)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def loop_sched(self) -> tuple[float, float]:
        return loop_sched(self.pid)

    def start(self) -> None:
        """Start on an empty state directory (no jobs or metrics left from a former run)."""
        for sub in ("data", "tmp"):
            shutil.rmtree(self.root / sub, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            pin = ["taskset", "-c", self.cores] if self.cores else []  # taskset execs: same pid
            self.proc = subprocess.Popen(
                [*pin, sys.executable, "-m", "vidsvc", "serve"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_healthy(self, session: aiohttp.ClientSession) -> float:
        """Poll GET /health until 200; returns the seconds it took. Raises ServerFailed."""
        started = time.perf_counter()
        deadline = started + HEALTH_TIMEOUT
        while time.perf_counter() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise ServerFailed(f"the server exited during start-up:\n{self.log_tail()}")
            try:
                probe = aiohttp.ClientTimeout(total=2)
                async with session.get(f"{self.base}/health", timeout=probe) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise ServerFailed(f"no healthy answer within {HEALTH_TIMEOUT:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM and wait up to STOP_TIMEOUT; SIGKILL if it is still there."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            self.exit_code = None if proc is None else proc.returncode
            return
        started = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.exit_code = proc.wait(timeout=10)
        self.stop_seconds = time.perf_counter() - started

    def kill(self) -> None:
        """The finally of last resort: SIGKILL a server that is still running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


async def serving(
    session: aiohttp.ClientSession, server: Server, body: Callable[[Server], Awaitable[T]]
) -> T:
    """Start `server`, wait until healthy, run `body`, and stop it whatever happens."""
    server.start()
    try:
        ready = await server.wait_healthy(session)
        print(f"  server pid {server.pid} ({server.root.name}) healthy after {ready:.2f} s")
        return await body(server)
    except BaseException:
        print(f"  server log tail ({server.log_path}):\n{server.log_tail()}")
        raise
    finally:
        await asyncio.to_thread(server.stop)
        server.kill()


def client_timeout() -> aiohttp.ClientTimeout:
    """No total: it would also bound a WebSocket, and wait_ws has its own receive timeout."""
    return aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120)
