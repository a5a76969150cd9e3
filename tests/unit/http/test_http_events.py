"""WS /ws/compositions/{id}: snapshot, progress, one terminal message, close; slow clients."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

from aiohttp import WSMsgType

from tests.support.http_app import Client, FakeRunner, receive_all, submit, wait_subscribed
from vidsvc.jobs import JobError, JobState


async def test_status_then_progress_then_completed_then_close(
    client: Client, fake: FakeRunner, tmp_path: Path
) -> None:
    job_id = (await submit(client))["composition_id"]
    async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        first = await ws.receive_json(timeout=5)
        assert first == {
            "type": "status",
            "data": {
                "status": "queued",
                "progress": {
                    "stage": "queued",
                    "percentage": 0,
                    "message": "",
                    "eta_seconds": None,
                    "speed": None,
                },
                "output_url": None,
                "metadata": None,
                "seq": 0,
            },
        }
        await wait_subscribed(fake, job_id)
        fake.advance(job_id, stage="downloading", percentage=10, message="clip 1 of 1")
        fake.advance(job_id, stage="encoding", percentage=50)
        fake.complete(job_id, tmp_path / "v.mp4", tmp_path / "t.jpg")
        rest = await receive_all(ws)
        assert ws.close_code == 1000
    assert [m["type"] for m in rest] == ["progress", "progress", "completed"]
    progress = rest[0]["data"]
    assert {"stage", "percentage", "message", "timestamp"} <= set(progress)
    assert progress["stage"] == "downloading" and progress["percentage"] == 10
    assert progress["message"] == "clip 1 of 1" and progress["timestamp"].endswith("Z")
    assert [m["data"]["seq"] for m in rest] == [1, 2, 3]
    done = rest[-1]["data"]
    assert done["output_url"].endswith(f"/api/v1/compositions/{job_id}/download")
    assert done["thumbnail_url"].endswith("/download?file=thumbnail")
    assert done["duration"] == 2.0
    await asyncio.sleep(0.05)
    assert fake.subscribers(job_id) == 0  # the subscription is released with the socket


async def test_failed_ends_with_an_error_message(client: Client, fake: FakeRunner) -> None:
    job_id = (await submit(client))["composition_id"]
    async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        await ws.receive_json(timeout=5)
        await wait_subscribed(fake, job_id)
        error = JobError(code="PROCESSING_FAILED", message="ffmpeg exited 1")
        fake.advance(job_id, state=JobState.FAILED, stage="failed", error=error)
        messages = await receive_all(ws)
        assert ws.close_code == 1000
    assert messages[-1]["type"] == "error"
    assert messages[-1]["data"]["code"] == "PROCESSING_FAILED"
    assert messages[-1]["data"]["message"] == "ffmpeg exited 1"


async def test_cancelled_ends_with_code_cancelled(client: Client, fake: FakeRunner) -> None:
    job_id = (await submit(client))["composition_id"]
    async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        await ws.receive_json(timeout=5)
        await wait_subscribed(fake, job_id)
        await client.delete(f"/api/v1/compositions/{job_id}")
        messages = await receive_all(ws)
    assert messages == [
        {
            "type": "error",
            "data": {
                "code": "CANCELLED",
                "message": "the composition was cancelled",
                "details": {},
                "status": "cancelled",
                "seq": 1,
            },
        }
    ]


async def test_a_late_client_gets_status_and_terminal_at_once(
    client: Client, fake: FakeRunner, tmp_path: Path
) -> None:
    job_id = (await submit(client))["composition_id"]
    fake.complete(job_id, tmp_path / "v.mp4", tmp_path / "t.jpg")
    async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        messages = await receive_all(ws)
        assert ws.close_code == 1000
    assert [m["type"] for m in messages] == ["status", "completed"]
    assert messages[0]["data"]["status"] == "completed"
    assert messages[0]["data"]["output_url"] == messages[1]["data"]["output_url"]


async def test_events_up_to_the_snapshot_are_not_repeated(
    client: Client, fake: FakeRunner
) -> None:
    job_id = (await submit(client))["composition_id"]
    fake.advance(job_id, percentage=20)  # seq 1, before the client connects
    async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        status = await ws.receive_json(timeout=5)
        assert status["data"]["seq"] == 1 and status["data"]["progress"]["percentage"] == 20
        await wait_subscribed(fake, job_id)
        fake.advance(job_id, percentage=30)
        progress = await ws.receive_json(timeout=5)
        assert progress["data"]["seq"] == 2 and progress["data"]["percentage"] == 30


async def test_draining_refuses_the_upgrade_with_503(client: Client, fake: FakeRunner) -> None:
    job_id = (await submit(client))["composition_id"]
    fake.begin_drain()
    resp = await client.get(
        f"/ws/compositions/{job_id}",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        },
    )
    assert resp.status == 503 and resp.headers["Retry-After"] == "5"
    assert (await resp.json())["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_shutdown_closes_sockets_with_1001(client: Client, fake: FakeRunner) -> None:
    job_id = (await submit(client))["composition_id"]
    ws = await client.ws_connect(f"/ws/compositions/{job_id}")
    await ws.receive_json(timeout=5)
    await wait_subscribed(fake, job_id)
    assert client.server.runner is not None
    await client.server.runner.shutdown()
    msg = await ws.receive(timeout=5)
    assert msg.type == WSMsgType.CLOSE and msg.data == 1001
    assert fake.draining
    await ws.close()


async def test_a_client_closing_releases_the_subscription(
    client: Client, fake: FakeRunner
) -> None:
    job_id = (await submit(client))["composition_id"]
    ws = await client.ws_connect(f"/ws/compositions/{job_id}")
    await ws.receive_json(timeout=5)
    await wait_subscribed(fake, job_id)
    await ws.close()
    async with asyncio.timeout(5):
        while fake.subscribers(job_id):
            await asyncio.sleep(0.01)
