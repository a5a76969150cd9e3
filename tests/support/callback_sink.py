"""A real HTTP receiver for callback tests, and a job in memory stores to deliver for.

Shared by tests/unit/work/test_callbacks.py (delivery, retries) and
tests/acceptance/reliability/test_security.py (S7–S9).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from vidsvc.config import Settings
from vidsvc.jobs import Job, JobError, JobKind, JobState, new_job_id, utcnow
from vidsvc.runner.lifecycle import Deps
from vidsvc.store import Stores
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryBlobStore, MemoryJobStore
from vidsvc.work.clips import callbacks

SECRET = "s3cret"

#: One clip's result as a clips job records it (work/clips/outcome.py).
RESULT = {
    "clip": "https://media.example/a.mp4",
    "outputs": {"thumbnail": "processed/p/t/0/thumbnail.jpg"},
    "probe": {"duration": 2.0},
    "render_ready": None,
}


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
        metadata={"results": [RESULT]},
    )
    await stores.jobs.create(job)
    return Deps(settings=Settings(**values), stores=stores, instance_id="test"), job


async def callback_note(deps: Deps, job: Job) -> dict[str, Any]:
    stored = await deps.stores.jobs.get(job.id)
    assert stored is not None
    note: dict[str, Any] = dict(stored.metadata["callback"])
    return note
