"""The soak (`make soak`, deselected from `make test`): 200 small jobs with random
cancels and one SIGKILL and restart midway, on a real `vidsvc serve` (SQLite, local disk) whose
FFmpeg is the shim (a random 0.1–0.6 s of progress, then the real FFmpeg on a one-second clip).

Afterwards: every job is in exactly one terminal state (completed, or cancelled when we
cancelled it in time), none lost or duplicated, attempts ≤ MAX_ATTEMPTS; no FFmpeg process and
no file under TMP_DIR remain; and the server's RSS after the second half is within noise of its
RSS after that half's warm-up batch (the restart makes a new process, so each half is measured
against its own warm-up). The numbers are printed (run with -s).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.fakes.faults import (
    TERMINAL,
    doc,
    live_shims,
    post,
    settle,
    single,
    tiny_clip,
)
from tests.support.server import Server, ffmpeg_pids

__all__ = ["single", "tiny_clip"]
pytestmark = [pytest.mark.soak, pytest.mark.ffmpeg]

JOBS = 200
WARM_UP = 20
CANCEL_SHARE = 0.2
SEED = 7
RSS_NOISE_MB = 15.0


def rss_mb(srv: Server) -> float:
    assert srv.proc is not None
    for line in Path(f"/proc/{srv.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def every_job(http: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        url = f"{base}/api/v1/compositions?limit=100" + (f"&cursor={cursor}" if cursor else "")
        async with http.get(url) as resp:
            page = await resp.json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        cursor = page["next_cursor"]


class Soak:
    def __init__(self, srv: Server, http: aiohttp.ClientSession, clip: Path) -> None:
        self.srv, self.http, self.clip = srv, http, clip
        self.rng = random.Random(SEED)
        self.ids: list[str] = []
        self.cancelled: dict[str, int] = {}  # id → the DELETE's status

    async def submit(self, count: int, *, cancels: bool) -> list[str]:
        batch = []
        for _ in range(count):
            batch.append(await post(self.http, self.srv.url, doc(self.clip)))
            if cancels and self.rng.random() < CANCEL_SHARE:
                victim = self.rng.choice(batch[-5:])  # queued, or already rendering
                if victim not in self.cancelled:
                    await asyncio.sleep(self.rng.uniform(0, 0.5))
                    await self.cancel(victim)
            await asyncio.sleep(self.rng.uniform(0, 0.05))
        self.ids += batch
        return batch

    async def cancel(self, job_id: str) -> None:
        url = f"{self.srv.url}/api/v1/compositions/{job_id}"
        async with self.http.delete(url) as resp:
            assert resp.status in (200, 202, 409), await resp.text()
            self.cancelled[job_id] = resp.status


@pytest.mark.timeout(900)
async def test_soak_200_jobs_with_cancels_and_a_sigkill(
    single: Callable[..., Server], http: aiohttp.ClientSession, tiny_clip: Path, tmp_path: Path
) -> None:
    srv = single("sleep=0.1-0.6", MAX_CONCURRENT_JOBS="3", MAX_QUEUED_JOBS="500")
    srv.start()
    soak = Soak(srv, http, tiny_clip)
    started = time.monotonic()

    await settle(http, srv.url, await soak.submit(WARM_UP, cancels=False), 300)
    first_rss = rss_mb(srv)
    await soak.submit(JOBS // 2, cancels=True)
    await asyncio.sleep(1.0)  # renders under way, a backlog waiting
    in_flight = [j["composition_id"] for j in await every_job(http, srv.url)
                 if j["status"] == "processing"]  # fmt: skip
    srv.signal(signal.SIGKILL)
    srv.wait()
    srv.start()
    killed_at = time.monotonic() - started
    await http.close()  # its pooled connections died with the server
    http = soak.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    await settle(http, srv.url, await soak.submit(WARM_UP, cancels=False), 300)
    base_rss = rss_mb(srv)
    await soak.submit(JOBS // 2, cancels=True)
    final = await settle(http, srv.url, soak.ids, 600)
    await asyncio.sleep(2.0)  # let the last scratch directories and callbacks go
    end_rss = rss_mb(srv)
    elapsed = time.monotonic() - started

    listed = await every_job(http, srv.url)
    assert sorted(j["composition_id"] for j in listed) == sorted(soak.ids)  # none lost or extra
    assert len(set(soak.ids)) == len(soak.ids) == JOBS + 2 * WARM_UP
    counts = {state: 0 for state in TERMINAL}
    for job_id, body in final.items():
        counts[body["status"]] += 1
        assert body["attempts"] <= 3, body
        assert body["attempts"] >= 1 or body["status"] == "cancelled", body
        if job_id not in soak.cancelled or soak.cancelled[job_id] == 409:
            assert body["status"] == "completed", body
        else:
            assert body["status"] == "cancelled", body
    retried = sum(final[j]["attempts"] >= 2 for j in in_flight if j in final)
    leftovers = [p for p in (srv.root / "tmp").rglob("*") if p.is_file()]
    print(
        f"\nsoak: {len(soak.ids)} jobs ({JOBS} + 2 warm-ups of {WARM_UP}) in {elapsed:.0f} s; "
        f"SIGKILL at {killed_at:.0f} s with {len(in_flight)} rendering ({retried} redone)\n"
        f"soak: {counts}; cancels asked {len(soak.cancelled)} "
        f"(200/202 {sum(s != 409 for s in soak.cancelled.values())}, "
        f"409 too late {sum(s == 409 for s in soak.cancelled.values())})\n"
        f"soak: RSS first life after warm-up {first_rss:.1f} MB; second life after warm-up "
        f"{base_rss:.1f} MB, after its 100 jobs {end_rss:.1f} MB "
        f"(delta {end_rss - base_rss:+.1f} MB)\n"
        f"soak: FFmpeg left {live_shims(tmp_path / 'shim.pids') + ffmpeg_pids(srv.root)}, "
        f"files left under TMP_DIR {len(leftovers)}"
    )
    await http.close()
    assert live_shims(tmp_path / "shim.pids") == [] and ffmpeg_pids(srv.root) == []
    assert leftovers == []
    assert end_rss - base_rss < RSS_NOISE_MB
