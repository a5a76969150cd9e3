"""Callback URLs are checked like inputs (S7) and delivered signed, retried, never redirected."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web

from vidsvc.config import Settings
from vidsvc.errors import ValidationError
from vidsvc.jobs import Job, JobError, JobKind, JobState, new_job_id, utcnow
from vidsvc.runner import callbacks
from vidsvc.runner.execute import Deps
from vidsvc.store import Stores
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryBlobStore, MemoryJobStore

SECRET = "s3cret"

S7_URLS = [
    "http://127.0.0.1/cb",
    "http://127.1/cb",
    "http://0/cb",
    "http://2130706433/cb",
    "http://0x7f000001/cb",
    "http://017700000001/cb",
    "http://[::1]/cb",
    "http://[::ffff:127.0.0.1]/cb",
    "http://[::169.254.169.254]/cb",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/cb",
    "http://10.0.0.1/cb",
    "http://172.16.0.1/cb",
    "http://192.168.1.1/cb",
    "http://100.64.0.1/cb",
    "http://[fc00::1]/cb",
    "http://[fe80::1%25eth0]/cb",
    "http://metadata.google.internal/computeMetadata/v1/",
    "ftp://example.com/cb",
    "http://user:pw@example.com/cb",
    "http:///cb",
    "http://example.com:99999/cb",
]


@pytest.mark.parametrize("url", S7_URLS)
def test_every_internal_or_malformed_callback_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        callbacks.check_callback_url(url, Settings())
    assert info.value.code == "VALIDATION_ERROR"
    assert info.value.details == {"field": "callback_url"}


def test_a_listed_internal_host_port_is_allowed_and_only_that_port() -> None:
    settings = Settings(allowed_callback_hosts=("127.0.0.1:8123",))
    callbacks.check_callback_url("http://127.0.0.1:8123/cb", settings)
    with pytest.raises(ValidationError):
        callbacks.check_callback_url("http://127.0.0.1:8124/cb", settings)
    callbacks.check_callback_url("https://example.com/cb", Settings())


async def test_a_name_resolving_to_loopback_is_refused_unless_listed() -> None:
    with pytest.raises(ValidationError) as info:
        await callbacks.check_callback_resolves("http://localhost:8123/cb", Settings(), field="f")
    assert info.value.details == {"field": "f"}
    listed = Settings(allowed_callback_hosts=("localhost:8123",))
    await callbacks.check_callback_resolves("http://localhost:8123/cb", listed)


@dataclass
class Receiver:
    """A real HTTP receiver: answers from a script of statuses, records every hit."""

    statuses: list[int]
    hits: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)
    port: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.hits.setdefault(request.path, []).append((dict(request.headers), body))
        if request.path == "/elsewhere":
            return web.Response(status=200)
        status = self.statuses.pop(0) if self.statuses else 200
        if 300 <= status < 400:
            raise web.HTTPFound(f"http://127.0.0.1:{self.port}/elsewhere")
        return web.Response(status=status, text="x" * 10_000)

    def url(self, path: str = "/cb") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def receiver() -> AsyncIterator[Callable[[list[int]], Receiver]]:
    runners: list[web.AppRunner] = []

    async def start(statuses: list[int]) -> Receiver:
        rec = Receiver(statuses)
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", rec.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        rec.port = runner.addresses[0][1]
        return rec

    yield start  # type: ignore[misc]
    for runner in runners:
        await runner.cleanup()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callbacks, "BACKOFF_BASE", 0.01)


async def deps_for(rec: Receiver, **overrides: Any) -> tuple[Deps, Job]:
    values: dict[str, Any] = {
        "allowed_callback_hosts": (f"127.0.0.1:{rec.port}",),
        "callback_secret": SECRET,
        "callback_timeout": 5.0,
    }
    values.update(overrides)
    stores = Stores(MemoryJobStore(), MemoryBlobStore(), MemoryPubSub(), MemoryBacklog())
    job = Job(
        id=new_job_id(JobKind.CLIPS),
        kind=JobKind.CLIPS,
        state=JobState.FAILED,
        payload={"callback_url": rec.url()},
        error=JobError(code="PROCESSING_FAILED", message="boom"),
        created_at=utcnow(),
        updated_at=utcnow(),
        finished_at=utcnow(),
        metadata={"results": [{"clip": 1}]},
    )
    await stores.jobs.create(job)
    return Deps(settings=Settings(**values), stores=stores, instance_id="test"), job


async def callback_note(deps: Deps, job: Job) -> dict[str, Any]:
    stored = await deps.stores.jobs.get(job.id)
    assert stored is not None
    note: dict[str, Any] = dict(stored.metadata["callback"])
    return note


async def test_delivery_is_signed_and_recorded(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([200])
    deps, job = await deps_for(rec)
    await callbacks.notify(deps, job)
    await callbacks.drain_callbacks(10)
    [(headers, body)] = rec.hits["/cb"]
    t, _, mac = headers[callbacks.SIGNATURE_HEADER].partition(",v1=")
    stamp = t.removeprefix("t=")
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(mac, expected.hexdigest())
    assert headers[callbacks.EVENT_ID_HEADER]
    doc = json.loads(body)
    assert doc["processing_id"] == job.id and doc["status"] == "failed"
    assert doc["results"] == [{"clip": 1}] and doc["error"]["code"] == "PROCESSING_FAILED"
    note = await callback_note(deps, job)
    assert note["delivered"] is True and note["url"] == rec.url()
    [attempt] = note["attempts"]
    assert attempt["status"] == 200 and "at" in attempt and "duration_ms" in attempt


async def test_5xx_and_429_are_retried_until_success(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([500, 503, 429, 200])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is True
    hits = rec.hits["/cb"]
    assert len(hits) == 4
    assert len({h[callbacks.EVENT_ID_HEADER] for h, _ in hits}) == 1  # one idempotency key
    note = await callback_note(deps, job)
    assert [a["status"] for a in note["attempts"]] == [500, 503, 429, 200]


async def test_retries_stop_at_max_attempts(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([500] * 10)
    deps, job = await deps_for(rec, callback_max_attempts=3)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert len(rec.hits["/cb"]) == 3
    assert (await callback_note(deps, job))["delivered"] is False


async def test_4xx_is_permanent(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([404, 200])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert len(rec.hits["/cb"]) == 1


async def test_a_redirect_is_not_followed(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([302, 302])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert "/elsewhere" not in rec.hits
    note = await callback_note(deps, job)
    assert note["attempts"][0]["status"] == 302


async def test_network_errors_are_retried_and_recorded(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([])
    deps, job = await deps_for(rec, callback_max_attempts=2)
    dead = "http://127.0.0.1:1/cb"  # nothing listens on port 1
    deps = replace(deps, settings=replace(deps.settings, allowed_callback_hosts=("127.0.0.1:1",)))
    assert await callbacks.deliver(deps, job, dead) is False
    attempts = (await callback_note(deps, job))["attempts"]
    assert len(attempts) == 2 and all("error" in a for a in attempts)


async def test_an_unlisted_internal_target_is_refused_at_send_time(
    receiver: Callable[..., Any],
) -> None:
    rec: Receiver = await receiver([200])
    deps, job = await deps_for(rec, allowed_callback_hosts=())
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert rec.hits == {}
    [attempt] = (await callback_note(deps, job))["attempts"]
    assert "internal" in attempt["error"]


async def test_drain_cancels_what_is_left(receiver: Callable[..., Any]) -> None:
    rec: Receiver = await receiver([500] * 100)
    deps, job = await deps_for(rec, callback_max_attempts=20)
    callbacks.BACKOFF_BASE = 5.0  # restored by monkeypatch after the test
    await callbacks.notify(deps, job)
    await asyncio.sleep(0.3)
    await callbacks.drain_callbacks(0.1)
    assert callbacks.pending() == 0
