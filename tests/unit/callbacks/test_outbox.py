"""The outbox (vidsvc/callbacks/outbox.py) against a real HTTP receiver: what is sent, how it is
retried, what ends it, and that a stop leaves the event for the next claimer. The job rows are
in the memory store; the same paths over real renders and real databases are the webhook
tests of tests/acceptance/service and tests/acceptance/reliability.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.support.jobs import make_job
from tests.support.webhook_sink import SECRET, MakeSink, Sink, sink, verify
from vidsvc.callbacks import outbox
from vidsvc.callbacks.outbox import Outbox
from vidsvc.config import Settings
from vidsvc.jobs import Job, JobError, JobKind, JobState
from vidsvc.store import Stores
from vidsvc.store.callback_events import CallbackEvent, EventState
from vidsvc.store.memory import MemoryBacklog, MemoryBlobStore, MemoryJobStore, MemoryPubSub
from vidsvc.work.compositions.handler import Compositions

__all__ = ["sink"]  # fixtures

ORIGIN = "https://vidsvc.example/prefix"
META = {"project": "p-42", "scene_ids": [1, 2], "ü": "✓"}


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "BACKOFF_BASE", 0.05)
    monkeypatch.setattr(outbox, "POLL_SECONDS", 0.05)


def settings_for(*sinks: Sink, **values: Any) -> Settings:
    allowed = tuple(s.host for s in sinks)
    base = {"allowed_callback_hosts": allowed, "callback_secret": SECRET, "callback_timeout": 5.0}
    return Settings(**(base | values))


def memory() -> Stores:
    return Stores(MemoryJobStore(), MemoryBlobStore(), MemoryPubSub(), MemoryBacklog())


async def ended(
    stores: Stores, url: str, state: JobState = JobState.COMPLETED
) -> tuple[Job, CallbackEvent]:
    """A composition naming `url`, stored with its event, then ended in `state`."""
    job = make_job(payload={"clips": [{"url": "s3://b/a.mp4"}], "callback_url": url,
                            "metadata": META})  # fmt: skip
    event = CallbackEvent.armed(job_id=job.id, url=url, origin=ORIGIN)
    await stores.jobs.create(job, callback=event)
    claimed = await stores.jobs.claim(job.id, owner="w", lease_s=30)
    assert claimed is not None
    end: dict[str, Any] = {}
    if state is JobState.COMPLETED:
        end = {"output_key": f"outputs/{job.id}/t.mp4", "thumbnail_key": f"outputs/{job.id}/t.jpg",
               "metadata": {"output": {"duration": 1.5}}}  # fmt: skip
    elif state is JobState.FAILED:
        end = {"error": JobError(code="INVALID_TIMELINE", message="clips[0]: too short")}
    done = await stores.jobs.finish(job.id, claimed.token, state, **end)
    assert done is not None
    return done, event


@asynccontextmanager
async def running(settings: Settings, stores: Stores, grace: float = 1) -> AsyncIterator[Outbox]:
    kinds = {JobKind.COMPOSITION: Compositions()}
    box = Outbox.of(settings, stores, kinds, "test", lambda key: f"/files/{key}?signature=s")
    await box.recover()
    box.start()
    try:
        yield box
    finally:
        await box.stop(grace)


async def settled(stores: Stores, job: Job, timeout: float = 10) -> CallbackEvent:
    async with asyncio.timeout(timeout):
        while True:
            event = await stores.jobs.callback_event(job.id)
            assert event is not None
            if event.state.final:
                return event
            await asyncio.sleep(0.02)


async def test_a_completion_is_posted_once_signed_with_its_links(sink: MakeSink) -> None:
    rec = await sink()
    stores = memory()
    job, event = await ended(stores, rec.url())
    async with running(settings_for(rec), stores):
        final = await settled(stores, job)
        await asyncio.sleep(0.3)  # polls go on: nothing more is sent
    [hit] = rec.hits
    verify(hit)
    assert hit.event_id == event.id and final.state is EventState.DELIVERED
    assert hit.body == {
        "event_id": event.id,
        "composition_id": job.id,
        "status": "completed",
        "output_url": f"{ORIGIN}/files/outputs/{job.id}/t.mp4?signature=s",
        "download_url": f"{ORIGIN}/api/v1/compositions/{job.id}/download",
        "thumbnail_url": f"{ORIGIN}/files/outputs/{job.id}/t.jpg?signature=s",
        "duration": 1.5,
        "outputs": None,
        "error": None,
        "metadata": META,
    }
    assert final.attempts == 1 and final.notes[0]["status"] == 200


@pytest.mark.parametrize("state", [JobState.FAILED, JobState.CANCELLED])
async def test_a_failure_or_cancel_is_posted_with_its_error(
    sink: MakeSink, state: JobState
) -> None:
    rec = await sink()
    stores = memory()
    job, _ = await ended(stores, rec.url(), state)
    async with running(settings_for(rec), stores):
        await settled(stores, job)
    [hit] = rec.hits
    body = hit.body
    assert body["status"] == state.value and body["metadata"] == META
    assert body["output_url"] is body["download_url"] is body["thumbnail_url"] is None
    assert body["duration"] is None
    code = "INVALID_TIMELINE" if state is JobState.FAILED else "CANCELLED"
    assert body["error"]["code"] == code


async def test_a_500_and_a_timeout_are_retried_with_one_event_id(sink: MakeSink) -> None:
    rec = await sink([500, "sleep"], then=204)
    stores = memory()
    job, event = await ended(stores, rec.url())
    async with running(settings_for(rec, callback_timeout=0.5), stores):
        final = await settled(stores, job)
    assert [h.event_id for h in rec.hits] == [event.id] * 3
    assert {h.body["event_id"] for h in rec.hits} == {event.id}
    for hit in rec.hits:
        verify(hit)
    assert final.state is EventState.DELIVERED and final.attempts == 3
    first, second, third = final.notes
    assert first["status"] == 500 and "TimeoutError" in second["error"] and third["status"] == 204
    gaps = [b.at - a.at for a, b in zip(rec.hits, rec.hits[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.5 + 0.1  # the backoff, then the timeout + backoff


async def test_a_redirect_is_a_failed_attempt_never_followed(sink: MakeSink) -> None:
    other = await sink()
    rec = await sink(["redirect"])
    rec.redirect_to = other.url("/elsewhere")  # another host, allowed as well
    stores = memory()
    job, _ = await ended(stores, rec.url())
    async with running(settings_for(rec, other), stores):
        final = await settled(stores, job)
    assert len(rec.hits) == 1 and other.hits == []
    assert final.state is EventState.FAILED and final.notes[0]["status"] == 307


async def test_attempts_stop_at_callback_max_attempts(sink: MakeSink) -> None:
    rec = await sink(then=503)
    stores = memory()
    job, _ = await ended(stores, rec.url())
    async with running(settings_for(rec, callback_max_attempts=3), stores):
        final = await settled(stores, job)
        await asyncio.sleep(0.3)
    assert len(rec.hits) == 3 and final.state is EventState.FAILED and final.attempts == 3


async def test_a_host_refused_at_send_time_is_never_connected(sink: MakeSink) -> None:
    rec = await sink()
    stores = memory()
    job, _ = await ended(stores, rec.url())
    async with running(settings_for(), stores):  # 127.0.0.1 not listed (any more)
        final = await settled(stores, job)
    assert rec.hits == [] and final.state is EventState.FAILED
    assert final.notes[0]["refused"] is True and "internal" in final.notes[0]["error"]


async def test_a_stop_mid_attempt_leaves_the_event_to_the_next_claimer(sink: MakeSink) -> None:
    rec = await sink(["sleep"], then=200)
    stores = memory()
    job, event = await ended(stores, rec.url())
    async with running(settings_for(rec, callback_timeout=20), stores, grace=0):
        async with asyncio.timeout(10):
            while not rec.hits:
                await asyncio.sleep(0.02)
    cut = await stores.jobs.callback_event(job.id)
    assert cut is not None and cut.lease is None and cut.attempts == 0  # released, not counted
    async with running(settings_for(rec), stores):
        final = await settled(stores, job)
    assert [h.event_id for h in rec.hits] == [event.id, event.id]
    assert final.state is EventState.DELIVERED and final.attempts == 1


async def test_without_a_secret_nothing_is_signed(sink: MakeSink) -> None:
    rec = await sink()
    stores = memory()
    job, _ = await ended(stores, rec.url())
    async with running(settings_for(rec, callback_secret=""), stores):
        await settled(stores, job)
    [hit] = rec.hits
    assert "X-Vidsvc-Signature" not in hit.headers and hit.event_id
