"""GET /metrics: Prometheus text from a registry per app, route templates, the runner's figures.

The fake-runner tests check the HTTP layer's series; the last test runs one real render through
the real Runner (SQLite + disk, real FFmpeg) and reads the job, render and usage figures back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.support.http_app import Client
from vidsvc.config import Settings
from vidsvc.http import create_app
from vidsvc.http.docs import OPENAPI_PATH
from vidsvc.http.keys import RUNNER_KEY

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client) -> tuple[str, Samples]:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):  # also proves the format parses
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_requests_are_counted_by_route_template_method_and_status(client: Client) -> None:
    for job_id in ("comp_0123456789abcdef01234567", "comp_fedcba9876543210fedcba98"):
        assert (await client.get(f"/api/v1/compositions/{job_id}")).status == 404
    assert (await client.get("/health")).status == 200
    assert (await client.get("/no/such/path/comp_abc")).status == 404
    text, samples = await scrape(client)
    route = "/api/v1/compositions/{id}"
    total = "vidsvc_http_requests_total"
    assert value(samples, total, route=route, method="GET", status="404") == 2
    assert value(samples, total, route="/health", method="GET", status="200") == 1
    assert value(samples, total, route="unmatched", method="GET", status="404") == 1
    latency = "vidsvc_http_request_duration_seconds_count"
    assert value(samples, latency, route=route, method="GET") == 2
    assert "comp_0123456789abcdef01234567" not in text and "comp_abc" not in text  # cardinality


async def test_error_envelopes_are_counted_with_the_status_the_client_got(
    client: Client, fake: Any
) -> None:
    from vidsvc.errors import StorageError

    fake.raise_on["get"] = StorageError("database down")
    resp = await client.get("/api/v1/compositions/comp_0123456789abcdef01234567")
    assert resp.status == 503
    _, samples = await scrape(client)
    labels = {"route": "/api/v1/compositions/{id}", "method": "GET", "status": "503"}
    assert value(samples, "vidsvc_http_requests_total", **labels) == 1


async def test_websocket_connections_gauge_follows_open_sockets(client: Client) -> None:
    resp = await client.post(
        "/api/v1/compositions", json={"clips": [{"url": "s3://bucket/a.mp4", "trim_end": 2}]}
    )
    job_id = (await resp.json())["composition_id"]
    async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        await ws.receive_json()  # the status snapshot: the socket is registered
        _, samples = await scrape(client)
        assert value(samples, "vidsvc_websocket_connections") == 1
    labels = {"route": "/ws/compositions/{id}", "method": "GET", "status": "101"}
    async with asyncio.timeout(5):  # counted when its handler returns, after the close
        while value(samples, "vidsvc_http_requests_total", **labels) is None:
            await asyncio.sleep(0.02)
            _, samples = await scrape(client)
    assert value(samples, "vidsvc_websocket_connections") == 0
    assert value(samples, "vidsvc_http_requests_total", **labels) == 1
    # a socket's lifetime is not a request latency
    assert value(samples, "vidsvc_http_request_duration_seconds_count", **labels) is None


async def test_each_app_has_its_own_registry(app_client: Callable[..., Awaitable[Client]]) -> None:
    first, second = await app_client(), await app_client()
    assert (await first.get("/health")).status == 200
    _, samples = await scrape(second)
    health = {"route": "/health", "method": "GET", "status": "200"}
    assert value(samples, "vidsvc_http_requests_total", **health) is None


async def test_disabled_is_a_404_and_counts_nothing(
    app_client: Callable[..., Awaitable[Client]],
) -> None:
    client = await app_client(ENABLE_METRICS="false")
    resp = await client.get("/metrics")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"]  # the usual envelope, like any unknown path
    doc = await (await client.get(OPENAPI_PATH)).json()
    assert "/metrics" not in doc["paths"]


async def test_documented_as_text_plain(client: Client) -> None:
    doc = await (await client.get(OPENAPI_PATH)).json()
    content = doc["paths"]["/metrics"]["get"]["responses"]["200"].get("content", {})
    assert "text/plain" in content


@pytest.mark.ffmpeg
async def test_real_render_shows_in_job_render_and_usage_metrics(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_settings: Callable[..., Settings],
    media: dict[str, Path],
    tmp_path: Path,
) -> None:
    settings = make_settings(DATA_DIR=str(tmp_path / "data"), MAX_CONCURRENT_JOBS="1")
    client = await aiohttp_client(create_app(settings))
    body = {"clips": [{"url": media["a"].as_uri()}], "output": {"resolution": "180p"}}
    created = await (await client.post("/api/v1/compositions", json=body)).json()
    job_id = created["composition_id"]
    async with asyncio.timeout(60):
        while True:
            status = await (await client.get(f"/api/v1/compositions/{job_id}")).json()
            if status["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.1)
    assert status["status"] == "completed", status
    assert status["progress"]["eta_seconds"] is None and status["progress"]["speed"] is None
    # the after-job hooks (the metrics among them) run once the final row is stored: a scrape
    # right after the status says completed can come before them
    finished = {"kind": "composition", "state": "completed"}
    async with asyncio.timeout(10):
        while value((samples := (await scrape(client))[1]), "vidsvc_jobs_finished_total",
                    **finished) != 1:  # fmt: skip
            await asyncio.sleep(0.05)
    jobs = "vidsvc_jobs"
    assert value(samples, jobs, state="completed", kind="composition") == 1
    assert value(samples, jobs, state="queued", kind="composition") == 0
    assert value(samples, "vidsvc_queue_depth") == 0
    assert value(samples, "vidsvc_ffmpeg_processes") == 0
    kind = {"kind": "composition"}
    assert value(samples, "vidsvc_render_duration_seconds_count", **kind) == 1
    assert value(samples, "vidsvc_render_speed_count", **kind) == 1
    assert value(samples, "vidsvc_jobs_finished_total", **finished) == 1
    assert value(samples, "vidsvc_smart_renders_total", applied="false") == 1  # 180p: one pass
    # render memory: the budget, nothing reserved once done, the peak against its estimate
    assert value(samples, "vidsvc_render_memory_budget_mb") > 0
    assert value(samples, "vidsvc_render_memory_reserved_mb") == 0
    assert value(samples, "vidsvc_render_memory_peak_to_estimate_count", **kind) == 1
    # the usage of THE FFmpeg child, as it reported it, in the metadata and job_metrics
    app: web.Application = client.server.app  # type: ignore[assignment]
    stores = app[RUNNER_KEY].stores
    job = await stores.jobs.get(job_id)
    assert job is not None
    meta = job.metadata
    assert meta["cpu_seconds"] > 0 and meta["memory_peak_mb"] > 1
    assert meta["memory_peak_mb"] <= meta["memory_estimate_mb"] < meta["address_space_estimate_mb"]
    assert meta["memory_mode"] == "usual"
    assert meta["output_seconds"] == pytest.approx(3.0, abs=0.1)
    assert meta["smart_render"] == {
        "applied": False,
        "reason": "the output is not 1280x720 at 30 fps",
    }
    (row,) = await stores.jobs.metrics(job_id)  # type: ignore[attr-defined]
    assert row["cpu_time"] == meta["cpu_seconds"] and row["memory_peak_mb"] > 1
    stats = row["ffmpeg_stats"]
    assert stats["frames"] == 90 and stats["total_size"] > 0 and stats["speed"] > 0
    assert (
        stats["dup_frames"] >= 0 and stats["drop_frames"] >= 0 and "encoding" in stats["timings"]
    )


async def test_a_blocked_loop_shows_in_the_lag_histogram_and_the_log(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """The monitor samples while the app runs; a loop held for 0.45 s is one sample over the
    0.25 s bucket and a warning (docs/reliability.md L10): late by 0.35-0.45 s."""
    name = "vidsvc_event_loop_lag_seconds"
    async with asyncio.timeout(5):  # a sample every 0.1 s once the app started
        while not value((await scrape(client))[1], f"{name}_count"):
            await asyncio.sleep(0.05)
    _, before = await scrape(client)
    assert value(before, f"{name}_bucket", le="0.25") == value(before, f"{name}_count")
    time.sleep(0.45)  # the test holds the loop the app shares: what blocking code does
    await asyncio.sleep(0.15)  # the monitor's next wake-up records it
    _, after = await scrape(client)
    over = value(after, f"{name}_count") or 0
    assert over - (value(after, f"{name}_bucket", le="0.25") or 0) == 1
    assert any("event loop lag" in r.getMessage() for r in caplog.records)
