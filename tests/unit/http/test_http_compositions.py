"""/api/v1/compositions: every route's status codes and bodies, to the letter of SPEC.md §2."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from tests.support.http_app import DOC, Client, FakeRunner, assert_envelope, submit
from vidsvc.http.bodies import (
    CompositionAcceptedSchema,
    CompositionMetadataSchema,
    CompositionPageSchema,
    CompositionStatusSchema,
)
from vidsvc.jobs import JobError, JobState

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def loads(schema: Any, body: dict[str, Any]) -> None:
    """The body is what the OpenAPI document says it is."""
    assert schema().validate(body) == {}, body


async def test_create_answers_202_with_the_spec_fields(client: Client, fake: FakeRunner) -> None:
    resp = await client.post("/api/v1/compositions", json=DOC)
    body = await resp.json()
    assert resp.status == 202
    job_id = body["composition_id"]
    assert job_id.startswith("comp_") and job_id in fake.jobs
    assert body["status"] == "queued"
    assert ISO_Z.match(body["created_at"])
    assert body["estimated_duration"] == 12.5
    assert body["websocket_url"] == f"ws://{client.host}:{client.port}/ws/compositions/{job_id}"
    assert resp.headers["Location"] == f"/api/v1/compositions/{job_id}"
    loads(CompositionAcceptedSchema, body)


async def test_websocket_url_honours_forwarded_headers(client: Client) -> None:
    headers = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "video.example.com"}
    resp = await client.post("/api/v1/compositions", json=DOC, headers=headers)
    body = await resp.json()
    assert body["websocket_url"].startswith("wss://video.example.com/ws/compositions/comp_")
    assert body["status_url"].startswith("https://video.example.com/api/v1/compositions/")

    resp = await client.post("/api/v1/compositions", json=DOC, headers={"Host": "api.test:8443"})
    assert (await resp.json())["websocket_url"].startswith("ws://api.test:8443/ws/")


async def test_websocket_url_ignores_forged_hosts(client: Client) -> None:
    headers = {"X-Forwarded-Host": "evil.example/path?x=<script>", "X-Forwarded-Proto": "gopher"}
    body = await (await client.post("/api/v1/compositions", json=DOC, headers=headers)).json()
    assert body["websocket_url"].startswith(f"ws://{client.host}:{client.port}/ws/")


async def test_public_base_url_wins(app_client: Any) -> None:
    client = await app_client(PUBLIC_BASE_URL="https://media.example.com/vidsvc/")
    headers = {"X-Forwarded-Host": "other.example"}
    body = await (await client.post("/api/v1/compositions", json=DOC, headers=headers)).json()
    assert body["websocket_url"] == (
        f"wss://media.example.com/vidsvc/ws/compositions/{body['composition_id']}"
    )


async def test_get_one_while_queued(client: Client) -> None:
    job_id = (await submit(client))["composition_id"]
    resp = await client.get(f"/api/v1/compositions/{job_id}")
    body = await resp.json()
    assert resp.status == 200
    assert body["composition_id"] == job_id
    assert body["status"] == "queued"
    assert body["progress"] == {
        "stage": "queued", "percentage": 0, "message": "", "eta_seconds": None, "speed": None
    }  # fmt: skip
    assert ISO_Z.match(body["created_at"]) and ISO_Z.match(body["updated_at"])
    assert body["output_url"] is None and body["error"] is None
    loads(CompositionStatusSchema, body)


async def test_get_one_completed_links_the_download(
    client: Client, fake: FakeRunner, tmp_path: Path
) -> None:
    job_id = (await submit(client))["composition_id"]
    fake.complete(job_id, tmp_path / "v.mp4", tmp_path / "t.jpg")
    body = await (await client.get(f"/api/v1/compositions/{job_id}")).json()
    assert body["status"] == "completed"
    assert body["progress"]["percentage"] == 100
    base = f"http://{client.host}:{client.port}/api/v1/compositions/{job_id}/download"
    assert body["output_url"] == base
    assert body["thumbnail_url"] == base + "?file=thumbnail"
    assert body["error"] is None
    loads(CompositionStatusSchema, body)


async def test_get_one_failed_carries_the_error(client: Client, fake: FakeRunner) -> None:
    job_id = (await submit(client))["composition_id"]
    error = JobError(code="PROCESSING_FAILED", message="ffmpeg exited 1", details={"tail": "x"})
    fake.advance(job_id, state=JobState.FAILED, stage="failed", error=error)
    body = await (await client.get(f"/api/v1/compositions/{job_id}")).json()
    assert body["status"] == "failed" and body["output_url"] is None
    assert body["error"] == {
        "code": "PROCESSING_FAILED",
        "message": "ffmpeg exited 1",
        "details": {"tail": "x"},
    }
    loads(CompositionStatusSchema, body)


async def test_list_pages_newest_first_with_a_cursor(client: Client) -> None:
    ids = [(await submit(client))["composition_id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/api/v1/compositions", params=query)
        body = await resp.json()
        assert resp.status == 200 and set(body) == {"items", "next_cursor"}
        loads(CompositionPageSchema, body)
        assert len(body["items"]) <= 2
        seen += [item["composition_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


async def test_list_filters_by_status_and_defaults_to_20(client: Client, fake: FakeRunner) -> None:
    ids = [(await submit(client))["composition_id"] for _ in range(22)]
    fake.advance(ids[3], state=JobState.CANCELLED, stage="cancelled")
    body = await (await client.get("/api/v1/compositions?status=cancelled")).json()
    assert [i["composition_id"] for i in body["items"]] == [ids[3]]
    assert body["next_cursor"] is None
    body = await (await client.get("/api/v1/compositions")).json()
    assert len(body["items"]) == 20 and body["next_cursor"] == body["items"][-1]["composition_id"]


async def test_list_refuses_bad_queries(client: Client) -> None:
    for query, field in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=running", "status"),
        ("cursor=" + "x" * 200, "cursor"),
    ]:
        resp = await client.get(f"/api/v1/compositions?{query}")
        body = await resp.json()
        assert resp.status == 400, query
        assert_envelope(body, "VALIDATION_ERROR")
        assert body["error"]["details"]["field"] == field


async def test_metadata(client: Client, fake: FakeRunner, tmp_path: Path) -> None:
    job_id = (await submit(client))["composition_id"]
    fake.complete(job_id, tmp_path / "v.mp4", tmp_path / "t.jpg")
    fake.jobs[job_id] = dataclasses.replace(
        fake.jobs[job_id],
        attempts=1,
        metadata={
            "timings": {"downloading": 0.1, "encoding": 1.2},
            "inputs": {"s3://bucket/a.mp4": {"duration": 2.0, "width": 640}},
            "output": {"duration": 2.0, "width": 1280, "height": 720},
            "command": ["ffmpeg", "-nostdin", "-i", "in0.mp4"],
            "ffmpeg_version": "5.1.6",
            "instance": "host-1",
            "render_seconds": 1.1,
        },
    )
    resp = await client.get(f"/api/v1/compositions/{job_id}/metadata")
    body = await resp.json()
    assert resp.status == 200
    assert body["timings"] == {"downloading": 0.1, "encoding": 1.2}
    assert body["inputs"]["s3://bucket/a.mp4"]["width"] == 640
    assert body["output"]["height"] == 720
    assert body["command"][0] == "ffmpeg" and body["ffmpeg_version"] == "5.1.6"
    assert body["attempts"] == 1 and body["instance"] == "host-1"
    assert body["render_seconds"] == 1.1  # whatever the worker recorded is passed through
    assert ISO_Z.match(body["created_at"]) and ISO_Z.match(body["finished_at"])
    loads(CompositionMetadataSchema, body)


async def test_metadata_of_a_queued_job_is_mostly_empty(client: Client) -> None:
    job_id = (await submit(client))["composition_id"]
    body = await (await client.get(f"/api/v1/compositions/{job_id}/metadata")).json()
    assert body["timings"] == {} and body["output"] is None and body["command"] is None
    assert body["started_at"] is None and body["attempts"] == 0
    loads(CompositionMetadataSchema, body)


async def test_cancel_queued_is_200_and_idempotent(client: Client) -> None:
    job_id = (await submit(client))["composition_id"]
    for _ in range(2):
        resp = await client.delete(f"/api/v1/compositions/{job_id}")
        body = await resp.json()
        assert resp.status == 200 and body["status"] == "cancelled"
        loads(CompositionStatusSchema, body)


async def test_cancel_processing_is_202_until_the_worker_stops(
    client: Client, fake: FakeRunner
) -> None:
    job_id = (await submit(client))["composition_id"]
    fake.advance(job_id, percentage=40)
    resp = await client.delete(f"/api/v1/compositions/{job_id}")
    body = await resp.json()
    assert resp.status == 202
    assert body["status"] == "processing" and body["cancel_requested"] is True


async def test_cancel_finished_is_409(client: Client, fake: FakeRunner, tmp_path: Path) -> None:
    job_id = (await submit(client))["composition_id"]
    fake.complete(job_id, tmp_path / "v.mp4", tmp_path / "t.jpg")
    resp = await client.delete(f"/api/v1/compositions/{job_id}")
    assert resp.status == 409
    body = await resp.json()
    assert_envelope(body, "COMPOSITION_FINISHED")
    assert body["error"]["details"] == {"status": "completed"}


async def test_every_id_route_answers_404_for_unknown_ids(client: Client) -> None:
    for suffix, method in [
        ("", "GET"),
        ("", "DELETE"),
        ("/download", "GET"),
        ("/metadata", "GET"),
    ]:
        resp = await client.request(method, f"/api/v1/compositions/comp_{'0' * 24}{suffix}")
        assert resp.status == 404, (method, suffix)
        assert_envelope(await resp.json(), "COMPOSITION_NOT_FOUND")
