"""RELIABILITY.md C9 (SIGTERM with long jobs, and a second signal) and C10 (start-up sweep).

A real `vidsvc serve` (SQLite, local disk) whose FFmpeg is the fake: `hang` ignores SIGTERM,
`fork` leaves a SIGTERM-ignoring grandchild in its process group. Elsewhere: the drain with
renders that finish in the grace is C8,
tests/acceptance/reliability/test_crash.py::test_sigterm_lets_a_running_render_finish_within_the_grace;
the drain past the grace with the real FFmpeg (which obeys SIGTERM), then a restart that
completes the job, is
tests/acceptance/service/test_durability.py::test_sigterm_past_the_grace_requeues_and_the_next_start_completes;
C1's kill and restart is test_crash.py::test_sigkill_mid_render_then_restart_completes_every_job.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.processes import FAKE_FFMPEG
from tests.support.server import Server, composition, wait_for
from vidsvc.jobs import new_job_id
from vidsvc.media.children import MARK_ENV

COMPOSITIONS = "/api/v1/compositions"


def fake(root: Path, mode: str) -> dict[str, str]:
    return {
        "FFMPEG_BIN": str(FAKE_FFMPEG),
        "FAKE_FFMPEG_MODE": mode,
        "FAKE_FFMPEG_PIDFILE": str(root / "ffmpeg.pids"),
    }


def spawned(root: Path) -> list[int]:
    """Every pid the fake FFmpeg wrote: each shim, then its grandchild in `fork` mode."""
    path = root / "ffmpeg.pids"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(") ", 1)[1][0] != "Z"


def in_group(pgid: int) -> list[int]:
    """Live processes of a process group (what `pgrep -g` shows)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name)):
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def rows(srv: Server) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(srv.root / "data" / "vidsvc.db") as db:
        db.row_factory = sqlite3.Row
        query = "SELECT id, status, attempts, lease_owner, lease_token FROM compositions"
        return {row["id"]: dict(row) for row in db.execute(query)}


def scratch(srv: Server) -> list[Path]:
    return list((srv.root / "tmp" / "jobs").glob("*/*"))


async def start_two_hung_renders(
    srv: Server, http: aiohttp.ClientSession, clip: Path, per_job: int
) -> list[str]:
    ids = []
    for _ in range(2):
        async with http.post(srv.url + COMPOSITIONS, json=composition(clip)) as resp:
            assert resp.status == 202
            ids.append((await resp.json())["composition_id"])
    deadline = time.monotonic() + 60
    while len(spawned(srv.root)) < 2 * per_job and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert len(spawned(srv.root)) == 2 * per_job, "both renders should be running"
    return ids


def assert_handed_back(srv: Server, ids: list[str]) -> None:
    """Both jobs queued again, lease cleared (claimable at once), the attempt given back,
    every FFmpeg process and process group gone, no scratch directory left."""
    for pid in spawned(srv.root):
        assert not alive(pid), f"ffmpeg pid {pid} outlived the shutdown"
        assert in_group(pid) == [] or not alive(pid)
    leaders = spawned(srv.root)[:: len(spawned(srv.root)) // 2]
    for leader in leaders:
        assert in_group(leader) == [], f"process group {leader} is not empty"
    table = rows(srv)
    for job_id in ids:
        row = table[job_id]
        assert row["status"] == "queued", row
        assert row["lease_owner"] is None and row["lease_token"] is None, row
        assert row["attempts"] == 0, row  # the shutdown is not the job's failure
    assert scratch(srv) == []


@pytest.mark.C
@pytest.mark.ffmpeg
async def test_c9a_one_sigterm_past_the_grace_kills_the_groups_and_requeues(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path, tmp_path: Path
) -> None:
    """C9 (a): two renders that ignore SIGTERM (`hang`); one SIGTERM. After SHUTDOWN_GRACE
    their process groups get SIGTERM, then SIGKILL after KILL_GRACE; the process exits 0,
    both jobs are `queued` with the lease cleared and the attempt given back, no FFmpeg,
    no process of their groups and no scratch directory remain."""
    srv = server(
        **fake(tmp_path, "hang"), MAX_CONCURRENT_JOBS="2", SHUTDOWN_GRACE="1", KILL_GRACE="0.5"
    )
    srv.start()
    ids = await start_two_hung_renders(srv, http, long_clip, per_job=1)
    srv.signal(signal.SIGTERM)
    assert srv.wait(60) == 0
    assert_handed_back(srv, ids)


@pytest.mark.C
@pytest.mark.ffmpeg
async def test_c9b_a_second_sigterm_skips_the_rest_of_the_grace(
    server: Callable[..., Server], http: aiohttp.ClientSession, long_clip: Path, tmp_path: Path
) -> None:
    """C9 (b): with SHUTDOWN_GRACE=120, a second SIGTERM 1 s after the first starts the cold
    path at once: the exit comes long before the grace could have run out (we wait at most
    a quarter of it), with the same final state as (a): `fork` shims and their
    SIGTERM-ignoring grandchildren killed as groups, jobs `queued`, lease cleared, attempt
    given back, scratch removed."""
    srv = server(
        **fake(tmp_path, "fork"), MAX_CONCURRENT_JOBS="2", SHUTDOWN_GRACE="120", KILL_GRACE="1"
    )
    srv.start()
    ids = await start_two_hung_renders(srv, http, long_clip, per_job=2)
    srv.signal(signal.SIGTERM)
    await asyncio.sleep(1)
    assert srv.proc is not None and srv.proc.poll() is None, "the first SIGTERM must drain"
    srv.signal(signal.SIGTERM)
    assert srv.wait(30) == 0
    assert_handed_back(srv, ids)


# -- C10: the start-up sweep -------------------------------------------------------------------


@pytest.fixture
def marked() -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """Start stand-ins for stray FFmpeg processes carrying a given instance mark."""
    started: list[subprocess.Popen[bytes]] = []

    def start(mark: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, MARK_ENV: mark}
        proc = subprocess.Popen(["sleep", "600"], env=env, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.C
@pytest.mark.ffmpeg
async def test_c10_startup_sweeps_orphans_and_stale_scratch_but_nothing_live(
    server: Callable[..., Server],
    http: aiohttp.ClientSession,
    long_clip: Path,
    tmp_path: Path,
    marked: Callable[[str], subprocess.Popen[bytes]],
) -> None:
    """C10: a first life of instance `inst-a` is SIGKILLed mid-render (a `processing` row
    whose lease owner is dead) with a cancelled job beside it. Before the restart we plant a
    500 MB (sparse) scratch dir of an unknown job, 2 h old, one of the cancelled job, and one
    of the stale (still live) job; and three marked processes: an orphan of the dead
    inst-a, one marked by a live inst-a (this test process: a peer sharing the name) and one
    of another instance. Within 10 s of the restart: the orphan is killed, the other two
    live on; the unknown and terminal dirs are gone, the live job's dir is untouched, the
    old TMP_DIR/jobs/inst-a workspace is gone, and the stale job is running again."""
    env = {**fake(tmp_path, "hang"), "INSTANCE_ID": "inst-a", "MAX_CONCURRENT_JOBS": "1"}
    srv = server(**env)
    srv.start()
    posted = []
    for _ in range(2):
        async with http.post(srv.url + COMPOSITIONS, json=composition(long_clip)) as resp:
            posted.append((await resp.json())["composition_id"])
    stale, cancelled = posted
    while not spawned(tmp_path):
        await asyncio.sleep(0.1)
    async with http.delete(f"{srv.url}{COMPOSITIONS}/{cancelled}") as resp:
        assert (await resp.json())["status"] == "cancelled"
    assert srv.proc is not None
    dead_pid = srv.proc.pid
    srv.signal(signal.SIGKILL)
    srv.wait()
    assert rows(srv)[stale]["status"] == "processing"
    left = scratch(srv)
    assert left, "the killed render should have left its workspace"

    tmp = tmp_path / "tmp"
    unknown = tmp / f"{new_job_id()}-old"
    unknown.mkdir()
    with (unknown / "big.bin").open("wb") as f:
        f.truncate(500 << 20)
    two_hours_ago = time.time() - 7200
    os.utime(unknown / "big.bin", (two_hours_ago, two_hours_ago))
    os.utime(unknown, (two_hours_ago, two_hours_ago))
    finished_dir, live_dir = tmp / f"{cancelled}-x", tmp / f"{stale}-x"
    for d in (finished_dir, live_dir):
        d.mkdir()
        (d / "f").write_bytes(b"x")
    other_files = tmp / "not-a-job"
    other_files.mkdir()
    orphan = marked(f"inst-a:{dead_pid}")
    live_peer = marked(f"inst-a:{os.getpid()}")
    other_instance = marked(f"inst-b:{dead_pid}")

    srv.start()
    deadline = time.monotonic() + 10
    while orphan.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert orphan.poll() == -signal.SIGKILL
    assert live_peer.poll() is None and other_instance.poll() is None
    assert not unknown.exists() and not finished_dir.exists()
    assert (live_dir / "f").read_bytes() == b"x"
    assert other_files.is_dir()
    job = f"{srv.url}{COMPOSITIONS}/{stale}"
    body = await wait_for(http, job, lambda b: b["status"] == "processing", 10)
    assert body["attempts"] == 2  # reclaimed (C1): the killed life's attempt counts
    assert not any(path.exists() for path in left)  # the killed attempt's workspace
