"""RELIABILITY.md L4, L7, S6 and the limit half of B5/B6, against a real `vidsvc serve`.

Where a limit is already proven closer to its code, this file does not repeat it:
- B5/B6 input limits on a probed file (pixels, duration, streams) are
  tests/unit/media/test_probe.py::test_limits (each setting just below the clip's); the input
  size cap per source is tests/unit/inputs/test_staging.py::test_a_large_local_file_is_refused and
  ::test_oversize_downloads_are_refused (http, with and without Content-Length) and
  tests/unit/store/test_s3.py::test_an_s3_input_over_the_cap_is_refused. Here one end-to-end case
  shows such a refusal ends the job `failed` with INVALID_CLIP_FORMAT from the probe stage,
  before any FFmpeg render.
- L4 (e), a timeline over MAX_DURATION_SECONDS (and B6 (b), a 10 h output) refused at POST, is
  tests/acceptance/reliability/test_bad_input.py::test_static_timeline_errors_are_refused_at_post.
- The POST rate limit is tests/unit/http/test_http_ratelimit.py.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.processes import FAKE_FFMPEG
from tests.support.server import Server, composition, wait_for
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.media import children
from vidsvc.media.ffmpeg import run_ffmpeg

COMPOSITIONS = "/api/v1/compositions"


def terminal(body: dict[str, Any]) -> bool:
    return body.get("status") in ("completed", "failed", "cancelled")


async def post(http: aiohttp.ClientSession, url: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(url, **kw) as resp:
        body: dict[str, Any] = await resp.json()
        return resp.status, body


async def listed(http: aiohttp.ClientSession, srv: Server) -> list[dict[str, Any]]:
    async with http.get(srv.url + COMPOSITIONS) as resp:
        items: list[dict[str, Any]] = (await resp.json())["items"]
        return items


def fake(srv_root: Path, mode: str) -> dict[str, str]:
    """Settings for a server whose FFmpeg is the fake, logging its pids and argv."""
    return {
        "FFMPEG_BIN": str(FAKE_FFMPEG),
        "FAKE_FFMPEG_MODE": mode,
        "FAKE_FFMPEG_PIDFILE": str(srv_root / "ffmpeg.pids"),
        "FAKE_FFMPEG_ARGVFILE": str(srv_root / "ffmpeg.argv"),
    }


# -- L4: request size and timeline complexity ---------------------------------------------------


def _clips(n: int, clip: Path) -> list[dict[str, Any]]:
    return [{"url": clip.as_uri(), "trim_start": 0, "trim_end": 1}] * n


@pytest.mark.L
@pytest.mark.ffmpeg
async def test_l4_oversized_bodies_and_timelines_are_refused_before_anything_is_written(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path, tmp_path: Path
) -> None:
    """L4: (a) a 5 MB body is 413 PAYLOAD_TOO_LARGE (aiohttp's client_max_size, in the
    envelope); (b) 10 000 clips, (c) 5 000 overlays and (d) text over MAX_TEXT_CHARS are 400
    INVALID_TIMELINE naming the field and the setting ((e): see the module docstring). No
    row is written and no FFmpeg is ever started (the fake's argv log stays absent)."""
    # 4 MiB: the 10 000 clips' JSON (≈1.2 MB with a long temp path) is read and refused for
    # its count, while the 5 MB body is still over the cap
    srv = server(**fake(tmp_path, "sleep:0.1"), MAX_BODY_BYTES=str(4 << 20))
    srv.start()
    url = srv.url + COMPOSITIONS
    big = io.BytesIO(b'{"clips": "' + b"x" * (5 << 20) + b'"}')
    headers = {"Content-Type": "application/json"}
    status, body = await post(http, url, data=big, headers=headers)
    assert status == 413, body
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"

    long_text = {"content": "y" * 501, "start_time": 0, "duration": 1}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("clips", "MAX_CLIPS", {"clips": _clips(10_000, long_clip)}),
        (
            "overlays",
            "MAX_OVERLAYS",
            {
                "clips": _clips(1, long_clip),
                "overlays": [{"content": "o", "start_time": 0, "duration": 1}] * 5_000,
            },
        ),
        (
            "overlays[0].content",
            "MAX_TEXT_CHARS",
            {"clips": _clips(1, long_clip), "overlays": [long_text]},
        ),
    ]
    for field, setting, doc in cases:
        # ~1 MiB of JSON: as a stream, as aiohttp wants large bodies sent
        sent = io.BytesIO(json.dumps({**doc, "output": {"resolution": "360p"}}).encode())
        status, body = await post(http, url, data=sent, headers=headers)
        assert status == 400, (setting, body)
        assert body["error"]["code"] == "INVALID_TIMELINE", body
        assert body["error"]["details"]["field"] == field, body
        assert setting in body["error"]["message"], body
    assert await listed(http, srv) == []
    assert not (tmp_path / "ffmpeg.argv").exists(), "FFmpeg ran for a refused request"


# -- B5/B6 (limit half): a refused input fails the job at the probe, not in the render ---------


@pytest.mark.B
@pytest.mark.ffmpeg
async def test_input_over_max_input_pixels_fails_the_job_at_probe_without_a_render(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path, tmp_path: Path
) -> None:
    """B5 (limit half): an input over MAX_INPUT_PIXELS (1280x720 against a 640x360 cap)
    ends the job `failed` with INVALID_CLIP_FORMAT naming clips[0].url; the render FFmpeg is
    never started. The other probe limits share this path (see the module docstring)."""
    srv = server(**fake(tmp_path, "sleep:0.1"), MAX_INPUT_PIXELS=str(640 * 360))
    srv.start()
    status, body = await post(http, srv.url + COMPOSITIONS, json=composition(long_clip))
    assert status == 202, body
    job = f"{srv.url}{COMPOSITIONS}/{body['composition_id']}"
    final = await wait_for(http, job, terminal, 60)
    assert final["status"] == "failed", final
    assert final["error"]["code"] == "INVALID_CLIP_FORMAT", final
    assert "1280x720" in final["error"]["message"]
    assert final["error"]["details"]["field"] == "clips[0].url"
    assert not (tmp_path / "ffmpeg.argv").exists()


# -- S6: resource limits on FFmpeg -------------------------------------------------------------


def _limits_of(pid: int) -> dict[str, tuple[str, str]]:
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    found = {}
    for row in rows:
        name = row[:26].strip()
        soft, hard = row[26:].split()[:2]
        found[name] = (soft, hard)
    return found


@pytest.mark.S
async def test_s6_spawned_ffmpeg_runs_under_the_configured_rlimits(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S6: a spawned FFmpeg (the fake, hanging) shows the configured limits in
    /proc/<pid>/limits: Max address space = FFMPEG_MAX_MEMORY_MB, Max cpu time =
    FFMPEG_MAX_CPU_SECONDS (hard a few seconds above, so SIGXCPU comes first), Max file size
    = MAX_OUTPUT_BYTES, niceness raised by FFMPEG_NICE; and the derived defaults when those
    are 0."""
    pidfile = tmp_path / "pids"
    monkeypatch.setenv("FAKE_FFMPEG_MODE", "hang")
    monkeypatch.setenv("FAKE_FFMPEG_PIDFILE", str(pidfile))
    workdir = tmp_path / "w"
    workdir.mkdir()
    configured = make_settings(
        FFMPEG_BIN=str(FAKE_FFMPEG),
        FFMPEG_MAX_MEMORY_MB="700",
        FFMPEG_MAX_CPU_SECONDS="77",
        MAX_OUTPUT_BYTES=str(3 << 20),
        FFMPEG_NICE="3",
        KILL_GRACE="0.2",
    )
    derived = make_settings(FFMPEG_BIN=str(FAKE_FFMPEG), KILL_GRACE="0.2", JOB_TIMEOUT="60")
    seen = []
    niceness = []
    for settings in (configured, derived):
        pidfile.unlink(missing_ok=True)
        task = asyncio.create_task(run_ffmpeg(["-i", "x"], settings=settings, cwd=workdir))
        while not pidfile.exists() or not pidfile.read_text().strip():
            await asyncio.sleep(0.05)
        pid = int(pidfile.read_text().split()[0])
        seen.append(_limits_of(pid))
        niceness.append(
            int((Path("/proc") / str(pid) / "stat").read_text().split(") ")[1].split()[16])
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    mine = seen[0]
    assert mine["Max address space"] == (str(700 << 20), str(700 << 20))
    assert mine["Max cpu time"] == ("77", str(77 + children.CPU_HARD_MARGIN_S))
    assert mine["Max file size"] == (str(3 << 20), str(3 << 20))
    assert mine["Max core file size"] == ("0", "0")
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert niceness == [min(ours + 3, 19), min(ours + 10, 19)]  # FFMPEG_NICE, then its default
    mem = (
        children.DEFAULT_MEMORY_BASE_MB + children.DEFAULT_MEMORY_PER_CORE_MB * children.cores()
    ) << 20
    hard_as = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard_as == resource.RLIM_INFINITY:
        assert seen[1]["Max address space"][0] == str(mem)
    assert seen[1]["Max cpu time"][0] == str(60 * children.cores())
    assert seen[1]["Max file size"][0] == str(Settings().max_output_bytes)


@pytest.mark.S
async def test_s6_derived_limits_scale_with_the_output_frame(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render of a 2160p frame (4x 1080p's pixels) gets 4x JOB_TIMEOUT in RLIMIT_CPU and
    1 GiB of address space per extra 1080p frame; an operator's FFMPEG_MAX_MEMORY_MB stays."""
    pidfile = tmp_path / "pids"
    monkeypatch.setenv("FAKE_FFMPEG_MODE", "hang")
    monkeypatch.setenv("FAKE_FFMPEG_PIDFILE", str(pidfile))
    workdir = tmp_path / "w"
    workdir.mkdir()
    derived = make_settings(FFMPEG_BIN=str(FAKE_FFMPEG), KILL_GRACE="0.2", JOB_TIMEOUT="60")
    pinned = make_settings(
        FFMPEG_BIN=str(FAKE_FFMPEG), KILL_GRACE="0.2", FFMPEG_MAX_MEMORY_MB="900"
    )
    seen = []
    for settings in (derived, pinned):
        pidfile.unlink(missing_ok=True)
        run = run_ffmpeg(["-i", "x"], settings=settings, cwd=workdir, pixels=3840 * 2160)
        task = asyncio.create_task(run)
        while not pidfile.exists() or not pidfile.read_text().strip():
            await asyncio.sleep(0.05)
        seen.append(_limits_of(int(pidfile.read_text().split()[0])))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert seen[0]["Max cpu time"][0] == str(4 * 60 * children.cores())
    base = children.DEFAULT_MEMORY_BASE_MB + children.DEFAULT_MEMORY_PER_CORE_MB * children.cores()
    if resource.getrlimit(resource.RLIMIT_AS)[1] == resource.RLIM_INFINITY:
        assert seen[0]["Max address space"][0] == str((base + 3 * 1024) << 20)
        assert seen[1]["Max address space"][0] == str(900 << 20)


@pytest.mark.S
@pytest.mark.ffmpeg
async def test_s6_a_cpu_bomb_is_stopped_by_rlimit_cpu(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """S6 (CPU): the real FFmpeg encoding 10 minutes of 2160p (ultrafast, so it stops
    quickly once told; veryslow takes 4 more SIGXCPUs to give up) under
    FFMPEG_MAX_CPU_SECONDS=1 is stopped by SIGXCPU long before JOB_TIMEOUT (60 s) (FFmpeg
    traps it and exits 255 or 123), and the failure is PROCESSING_FAILED naming the setting
    (details.limit=cpu), not a timeout."""
    settings = make_settings(FFMPEG_MAX_CPU_SECONDS="1", JOB_TIMEOUT="60")
    bomb = ["-f", "lavfi", "-i", "testsrc2=s=3840x2160:d=600", "-c:v", "libx264"]
    bomb += ["-preset", "ultrafast", "-f", "null", "-"]
    with pytest.raises(ProcessingFailed) as caught:
        await run_ffmpeg(bomb, settings=settings, cwd=tmp_path)
    assert caught.value.details["limit"] == "cpu", caught.value.details
    assert "FFMPEG_MAX_CPU_SECONDS=1" in caught.value.message


@pytest.mark.S
@pytest.mark.ffmpeg
async def test_s6_a_memory_hog_fails_its_job_and_leaves_the_service_fine(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path, tmp_path: Path
) -> None:
    """S6 (memory): the fake allocating 8 GiB under FFMPEG_MAX_MEMORY_MB=512 cannot get it:
    the job ends `failed` with PROCESSING_FAILED naming the limit (details.limit=memory),
    and the service stays healthy with its own memory untouched (RSS well under 8 GiB)."""
    srv = server(**fake(tmp_path, "alloc:8"), FFMPEG_MAX_MEMORY_MB="512")
    srv.start()
    status, body = await post(http, srv.url + COMPOSITIONS, json=composition(long_clip))
    assert status == 202, body
    job = f"{srv.url}{COMPOSITIONS}/{body['composition_id']}"
    final = await wait_for(http, job, terminal, 60)
    assert final["status"] == "failed", final
    assert final["error"]["code"] == "PROCESSING_FAILED"
    assert "FFMPEG_MAX_MEMORY_MB=512" in final["error"]["message"]
    assert final["error"]["details"]["limit"] == "memory"
    async with http.get(srv.url + "/health") as resp:
        assert resp.status == 200
    assert srv.proc is not None
    status_text = Path(f"/proc/{srv.proc.pid}/status").read_text()
    rss_kb = int(next(x for x in status_text.splitlines() if x.startswith("VmRSS")).split()[1])
    assert rss_kb < 1 << 20, f"vidsvc itself holds {rss_kb} KiB"


@pytest.mark.S
@pytest.mark.ffmpeg
async def test_s6_an_output_past_max_output_bytes_fails_the_job(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path
) -> None:
    """S6 (file size): a real render whose MP4 grows past MAX_OUTPUT_BYTES (1 MiB, the
    smallest allowed; the render makes several) is stopped by RLIMIT_FSIZE (SIGXFSZ): the
    job is `failed` with PROCESSING_FAILED naming MAX_OUTPUT_BYTES, and no scratch file is
    left behind."""
    srv = server(MAX_OUTPUT_BYTES=str(1 << 20))
    srv.start()
    doc = composition(long_clip, resolution="1080p", preset="ultrafast", crf=10)
    status, body = await post(http, srv.url + COMPOSITIONS, json=doc)
    assert status == 202, body
    job = f"{srv.url}{COMPOSITIONS}/{body['composition_id']}"
    final = await wait_for(http, job, terminal, 120)
    assert final["status"] == "failed", final
    assert final["error"]["code"] == "PROCESSING_FAILED"
    assert "MAX_OUTPUT_BYTES" in final["error"]["message"], final["error"]
    assert final["error"]["details"]["limit"] == "output_size"
    assert list((srv.root / "tmp" / "jobs").glob("*/*")) == []


# -- L7: WebSocket connection caps -------------------------------------------------------------


async def _connected_within(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], seconds: float
) -> aiohttp.ClientWebSocketResponse:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await http.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status != 503 or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def _refused(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(url, headers=headers)
    assert caught.value.status == 503
    assert caught.value.headers is not None and "Retry-After" in caught.value.headers


@pytest.mark.L
@pytest.mark.ffmpeg
async def test_l7_websocket_caps_per_client_and_in_all(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path, tmp_path: Path
) -> None:
    """L7: with WS_MAX_CONN_PER_IP=4 and WS_MAX_CONNECTIONS=10, the 5th socket from one
    client and the 11th in all (other clients told apart by a trusted X-Forwarded-For) are
    refused before the upgrade with 503 (envelope, Retry-After); the sockets already open
    keep receiving their job's events to the end; a closed socket frees its place; and the
    process's open fds stay far below its limit."""
    srv = server(
        **fake(tmp_path, "sleep:3"),
        WS_MAX_CONN_PER_IP="4",
        WS_MAX_CONNECTIONS="10",
        TRUST_FORWARDED_FOR="true",
    )
    srv.start()
    status, body = await post(http, srv.url + COMPOSITIONS, json=composition(long_clip))
    assert status == 202, body
    ws_url = srv.url.replace("http", "ws") + f"/ws/compositions/{body['composition_id']}"
    one = {"X-Forwarded-For": "203.0.113.1"}
    sockets = [await http.ws_connect(ws_url, headers=one) for _ in range(4)]
    await _refused(http, ws_url, one)
    async with http.get(ws_url.replace("ws", "http", 1), headers=one) as resp:
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "SERVICE_UNAVAILABLE"
    for n in range(6):  # 6 more clients: 10 in all
        sockets.append(
            await http.ws_connect(ws_url, headers={"X-Forwarded-For": f"198.51.100.{n}"})
        )
    await _refused(http, ws_url, {"X-Forwarded-For": "192.0.2.77"})
    assert srv.proc is not None
    fds = len(os.listdir(f"/proc/{srv.proc.pid}/fd"))
    assert fds < resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 100

    async def to_the_end(ws: aiohttp.ClientWebSocketResponse) -> list[str]:
        kinds = []
        async for msg in ws:
            kinds.append(json.loads(msg.data)["type"])
        return kinds

    received = await asyncio.wait_for(asyncio.gather(*(to_the_end(ws) for ws in sockets)), 60)
    for kinds in received:
        assert kinds[0] == "status" and kinds[-1] in ("completed", "error"), kinds
    # every socket closed: the places are free again, once the server has seen each close
    # (the client may read the close frame before the server's handler has let go)
    again = await _connected_within(http, ws_url, one, 10)
    msg = await again.receive_json(timeout=10)
    assert msg["type"] == "status"
    await again.close()
