"""Composition webhooks end to end: real renders (FFmpeg, the real app and Runner, SQLite, local
disk) and a real receiver in process, every signature checked with the secret. One POST per
terminal state (completed, a cache hit, failed, cancelled queued or running), its body and its
links; metadata echoed by GET, the list and the WebSocket; a restart of the app mid-retry.
The retry policy's corners (timeouts, redirects, refusals) are tests/unit/callbacks; two
instances and a SIGKILL are tests/acceptance/reliability/test_webhooks_durable.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import receive_all
from tests.support.media import make_video
from tests.support.real_app import App, clips, make_app
from tests.support.split_doc import long_document
from tests.support.webhook_sink import SECRET, Hit, MakeSink, Sink, sink, verify
from vidsvc.callbacks import outbox
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.store.callback_events import EventState

__all__ = ["clips", "make_app", "sink"]  # fixtures
pytestmark = pytest.mark.ffmpeg

POST = "/api/v1/compositions"
META = {"project": "p-42", "scene_ids": [1, 2], "nested": {"ok": True}}
BODY_KEYS = {"event_id", "composition_id", "status", "output_url", "download_url",
             "thumbnail_url", "duration", "outputs", "error", "metadata"}  # fmt: skip
MakeApp = Callable[..., Awaitable[App]]


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "BACKOFF_BASE", 0.2)
    monkeypatch.setattr(outbox, "POLL_SECONDS", 0.1)


def doc(clips: Path, rec: Sink, path: str = "/hook", **extra: Any) -> dict[str, Any]:
    return {
        "clips": [{"url": (clips / "good.mp4").as_uri()}],
        "output": {"resolution": "360p", "fps": 10},
        "callback_url": rec.url(path),
        "metadata": META,
        **extra,
    }


async def webhook_app(make_app: MakeApp, *sinks: Sink, **env: str) -> App:
    hosts = ",".join(s.host for s in sinks)
    return await make_app(ALLOWED_CALLBACK_HOSTS=hosts, CALLBACK_SECRET=SECRET, **env)


async def submitted(app: App, document: dict[str, Any]) -> dict[str, Any]:
    status, body = await app.post(document)
    assert status == 202, body
    return body


def only(rec: Sink) -> Hit:
    """The one POST the receiver got, signed, its event id in the header and the body."""
    [hit] = rec.hits
    verify(hit)
    assert hit.event_id == hit.body["event_id"] and set(hit.body) == BODY_KEYS
    return hit


async def test_a_completion_is_posted_once_with_links_and_metadata_everywhere(
    make_app: MakeApp, clips: Path, sink: MakeSink
) -> None:
    rec = await sink()
    app = await webhook_app(make_app, rec)
    created = await submitted(app, doc(clips, rec))
    job_id = created["composition_id"]
    final = await app.finished(job_id)
    assert final["status"] == "completed" and final["metadata"] == META
    await rec.until(1)
    await asyncio.sleep(0.5)  # the outbox keeps polling: nothing more is sent
    body = only(rec).body
    assert body["composition_id"] == job_id and body["status"] == "completed"
    assert body["metadata"] == META and body["error"] is None
    assert body["duration"] == pytest.approx(1.0, abs=0.1)
    [single] = body["outputs"]  # one rendition: the output's own shape, its expiring links
    assert (single["rendition"], single["width"], single["height"]) == (0, 640, 360)
    assert single["format"] == "mp4" and single["duration"] == body["duration"]
    assert "/files/outputs/" in single["output_url"] and "/files/" in single["thumbnail_url"]
    assert body["download_url"] == f"{created['status_url']}/download"
    session = app.client.session
    for link, kind in ((body["output_url"], "video/mp4"), (body["thumbnail_url"], "image/jpeg")):
        assert "/files/outputs/" in link and "signature=" in link  # the expiring kind
        async with session.get(link) as resp:
            assert resp.status == 200 and resp.content_type == kind
            assert len(await resp.read()) > 1000
    async with session.get(body["download_url"], allow_redirects=False) as resp:
        assert resp.status == 302  # the stable route, to a freshly signed link
    page = await (await app.client.get(f"{POST}?limit=10")).json()
    assert [i["metadata"] for i in page["items"] if i["composition_id"] == job_id] == [META]
    async with app.client.ws_connect(f"/ws/compositions/{job_id}") as ws:
        messages = await receive_all(ws, timeout=10)
    assert [m["type"] for m in messages] == ["status", "completed"]
    assert messages[0]["data"]["metadata"] == messages[1]["data"]["metadata"] == META
    assert [o["width"] for o in messages[1]["data"]["outputs"]] == [640]


async def test_a_cache_hit_is_posted_and_metadata_stays_out_of_the_key(
    make_app: MakeApp, clips: Path, sink: MakeSink
) -> None:
    rec = await sink()
    app = await webhook_app(make_app, rec)
    first = (await submitted(app, doc(clips, rec, "/one")))["composition_id"]
    assert (await app.finished(first))["status"] == "completed"
    other = {"project": "p-43"}
    again = await submitted(app, doc(clips, rec, "/two", metadata=other))
    second = again["composition_id"]
    assert (await app.finished(second))["status"] == "completed"
    meta = await (await app.client.get(f"{POST}/{second}/metadata")).json()
    assert meta["cache"]["hit"] is True and meta["cache"]["source_composition_id"] == first
    hits = await rec.until(2)
    by_id = {h.body["composition_id"]: h for h in hits}
    assert set(by_id) == {first, second} and len(hits) == 2
    for hit in hits:
        verify(hit)
    assert by_id[second].body["metadata"] == other and by_id[second].body["status"] == "completed"
    assert by_id[first].event_id != by_id[second].event_id
    async with app.client.session.get(by_id[second].body["output_url"]) as resp:
        assert resp.status == 200


async def test_a_failure_is_posted_with_its_error(
    make_app: MakeApp, clips: Path, sink: MakeSink
) -> None:
    rec = await sink()
    (clips / "bad.mp4").write_bytes(b"not a video at all" * 100)
    app = await webhook_app(make_app, rec)
    document = doc(clips, rec)
    document["clips"] = [{"url": (clips / "bad.mp4").as_uri()}]
    job_id = (await submitted(app, document))["composition_id"]
    final = await app.finished(job_id)
    assert final["status"] == "failed"
    await rec.until(1)
    body = only(rec).body
    assert body["status"] == "failed" and body["error"] == final["error"]
    assert body["error"]["code"] == "INVALID_CLIP_FORMAT" and body["metadata"] == META
    assert body["output_url"] is body["download_url"] is body["thumbnail_url"] is None


async def test_cancels_queued_and_running_are_posted(
    make_app: MakeApp, clips: Path, sink: MakeSink
) -> None:
    rec = await sink()
    make_video(clips / "long.mp4", size="640x360", rate=30, seconds=40, tone=440)
    app = await webhook_app(make_app, rec)  # MAX_CONCURRENT_JOBS=1: the second one waits
    slow = doc(clips, rec, "/running", output={"resolution": "720p", "fps": 30})
    slow["clips"] = [{"url": (clips / "long.mp4").as_uri()}]
    running = (await submitted(app, slow))["composition_id"]
    queued = (await submitted(app, doc(clips, rec, "/queued")))["composition_id"]
    resp = await app.client.delete(f"{POST}/{queued}")
    assert resp.status == 200, await resp.json()  # queued: cancelled at once
    async with asyncio.timeout(30):
        while (await (await app.client.get(f"{POST}/{running}")).json())["status"] != "processing":
            await asyncio.sleep(0.05)
    resp = await app.client.delete(f"{POST}/{running}")
    assert resp.status in (200, 202)
    assert (await app.finished(running))["status"] == "cancelled"
    hits = await rec.until(2)
    assert len(hits) == 2
    by_id = {h.body["composition_id"]: h.body for h in hits}
    for job_id in (queued, running):
        assert by_id[job_id]["status"] == "cancelled"
        assert by_id[job_id]["error"]["code"] == "CANCELLED" and by_id[job_id]["metadata"] == META


async def test_an_app_restarted_mid_retry_delivers_once_after_the_restart(
    make_app: MakeApp, clips: Path, sink: MakeSink
) -> None:
    """The receiver fails while the first app runs; the app stops (the event waits in the
    database, not in memory); a new app on the same database finds it and delivers it once,
    with the event id of the failed attempts."""
    rec = await sink(then=500)
    first = await webhook_app(make_app, rec, CALLBACK_MAX_ATTEMPTS="20")
    job_id = (await submitted(first, doc(clips, rec)))["composition_id"]
    assert (await first.finished(job_id))["status"] == "completed"
    async with asyncio.timeout(20):
        while len(rec.hits) < 2:
            await asyncio.sleep(0.02)
    await first.client.close()  # the runner and its outbox stop with the app
    failed = len(rec.hits)
    assert failed >= 2
    rec.then = 200
    second = await webhook_app(make_app, rec, CALLBACK_MAX_ATTEMPTS="20")
    await rec.until(1)
    await asyncio.sleep(0.5)
    assert len(rec.hits) == failed + 1 and len(rec.delivered()) == 1
    assert {h.event_id for h in rec.hits} == {rec.hits[0].body["event_id"]}
    verify(rec.delivered()[0])
    event = await second.client.app[RUNNER_KEY].stores.jobs.callback_event(job_id)
    assert event is not None and event.state is EventState.DELIVERED
    assert event.attempts == failed + 1


async def test_a_split_render_is_posted_once_when_its_join_completes_it(
    make_app: MakeApp, sink: MakeSink, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A composition rendered as parts (one instance splitting its own render) is posted once,
    by the instance whose join completed it, with the whole output's links."""
    root = tmp_path_factory.mktemp("split-hook")
    rec = await sink()
    split = {"SPLIT_MIN_INSTANCES": "1", "SPLIT_MIN_SECONDS": "20", "CHUNK_SECONDS": "20"}
    app = await webhook_app(make_app, rec, ALLOWED_LOCAL_DIRS=str(root), MAX_CONCURRENT_JOBS="2",
                            **split)  # fmt: skip
    document = {**long_document(root), "callback_url": rec.url("/hook"), "metadata": META}
    created = await submitted(app, document)
    final = await app.finished(created["composition_id"])
    assert final["status"] == "completed", final
    await rec.until(1)
    await asyncio.sleep(0.5)  # the outbox keeps polling: nothing more is sent
    body = only(rec).body
    assert body["status"] == "completed" and body["metadata"] == META
    assert body["duration"] == pytest.approx(60.0, abs=0.1)
    [single] = body["outputs"]
    assert (single["width"], single["height"]) == (320, 180)
    meta = await (await app.client.get(f"{POST}/{created['composition_id']}/metadata")).json()
    assert meta["split"]["parts"] == 3 and len(meta["split"]["parts_run"]) == 4
