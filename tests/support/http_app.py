"""HTTP fixtures (a pytest plugin): a FakeRunner with the Runner façade's surface, and clients
of the real app.

The fake keeps jobs in a dict and lets a test drive them (`advance`), fail them on demand
(`raise_on`) and watch what was published; everything above it is the real vidsvc.http.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType, web
from aiohttp.test_utils import TestClient

from vidsvc.config import Settings
from vidsvc.errors import CompositionNotFound, ServiceUnavailable
from vidsvc.http import create_app
from vidsvc.jobs import Job, JobError, JobEvent, JobKind, JobState, Progress, new_job_id, utcnow
from vidsvc.media import gpu
from vidsvc.runner.budget import Budget
from vidsvc.runner.service import Runner
from vidsvc.schema import parse_composition
from vidsvc.store.memory_templates import MemoryTemplateStore

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]

DOC: dict[str, Any] = {
    "clips": [{"url": "s3://bucket/a.mp4", "trim_start": 0, "trim_end": 2}],
    "output": {"resolution": "720p"},
}


class FakePool:
    """The pool's one surface the app uses: `slot()`, a unit of a real Budget (beat detection)."""

    def __init__(self, settings: Settings) -> None:
        self.budget = Budget(settings.max_concurrent_jobs)

    def slot(self) -> AbstractAsyncContextManager[None]:
        return self.budget.unit()


class FakeRunner:
    """The Runner façade in memory (same methods and attributes as vidsvc.runner.service)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.instance_id = "fake-1"
        self.draining = False
        self.pool = FakePool(settings)
        self.jobs: dict[str, Job] = {}
        self.templates = MemoryTemplateStore()  # as the Runner's: the store itself
        self.blobs: dict[str, Path] = {}
        self.presigned = False
        self.components = {"database": "healthy", "redis": "disabled", "s3": "disabled"}
        self.components["ffmpeg"] = "healthy"
        self.raise_on: dict[str, BaseException] = {}  # method name → exception to raise
        self.origins: list[str] = []  # submit's `origin` of every composition, in order
        self._subscribers: dict[str, list[asyncio.Queue[JobEvent]]] = {}
        self._tick = 0

    def _maybe_raise(self, method: str) -> None:
        if method in self.raise_on:
            raise self.raise_on[method]

    async def submit(
        self, kind: JobKind, document: Mapping[str, Any], *, origin: str = ""
    ) -> tuple[Job, bool]:
        self._maybe_raise("submit")
        self.origins.append(origin)  # where the webhook's links would point
        assert kind is JobKind.COMPOSITION, "the fake takes compositions only"
        if self.draining:
            raise ServiceUnavailable("draining", details={"retry_after": 5})
        parse_composition(document)  # the real shape checks: VALIDATION_ERROR with field
        self._tick += 1
        now = utcnow()
        job = Job(
            id=new_job_id(),
            kind=JobKind.COMPOSITION,
            state=JobState.QUEUED,
            payload=dict(document),
            created_at=now,
            updated_at=now,
        )
        self.jobs[job.id] = job
        return job, True

    async def get(self, kind: JobKind, job_id: str) -> Job:
        self._maybe_raise("get")
        if job_id not in self.jobs:
            raise CompositionNotFound(f"composition {job_id[:80]!r} does not exist")
        return self.jobs[job_id]

    async def list(
        self, *, state: JobState | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        ordered = sorted(self.jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)
        ordered = [j for j in ordered if state is None or j.state is state]
        ids = [j.id for j in ordered]
        start = ids.index(cursor) + 1 if cursor in ids else (len(ids) if cursor else 0)
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return page, (page[-1].id if more and page else None)

    async def cancel(self, kind: JobKind, job_id: str) -> Job:
        job = await self.get(kind, job_id)
        if job.state is JobState.QUEUED:
            return self.advance(job_id, state=JobState.CANCELLED, stage="cancelled")
        if job.state is JobState.PROCESSING:
            self.jobs[job_id] = dataclasses.replace(job, cancel_requested=True)
        return self.jobs[job_id]

    async def estimate_seconds(self, job: Job) -> float:
        return 12.5

    async def blob_url(self, key: str) -> str | None:
        return f"https://bucket.s3.example/{key}?X-Amz-Signature=abc" if self.presigned else None

    def blob_path(self, key: str) -> Path | None:
        if ".." in key.split("/"):
            raise ValueError("escapes")
        return self.blobs.get(key)

    @asynccontextmanager
    async def watch(
        self, kind: JobKind, job_id: str
    ) -> AsyncIterator[tuple[Job, AsyncIterator[JobEvent]]]:
        await self.get(kind, job_id)
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._subscribers.setdefault(job_id, []).append(queue)
        try:
            snapshot = await self.get(kind, job_id)

            async def newer() -> AsyncIterator[JobEvent]:
                while True:
                    event = await queue.get()
                    if event.seq > snapshot.progress_seq:
                        yield event

            yield snapshot, newer()
        finally:
            self._subscribers[job_id].remove(queue)

    def subscribers(self, job_id: str) -> int:
        return len(self._subscribers.get(job_id, []))

    async def health(self) -> dict[str, str]:
        self._maybe_raise("health")
        return dict(self.components)

    def encoder(self) -> dict[str, Any]:
        return gpu.status(self.settings, None)

    def begin_drain(self) -> None:
        self.draining = True

    # -- test controls --------------------------------------------------------------------

    def advance(
        self,
        job_id: str,
        *,
        state: JobState = JobState.PROCESSING,
        stage: str = "encoding",
        percentage: float | None = None,
        message: str = "",
        error: JobError | None = None,
        **changes: Any,
    ) -> Job:
        """Change a job as a worker would (seq + 1) and publish the event to watchers."""
        job = self.jobs[job_id]
        pct = job.progress.percentage if percentage is None else percentage
        job = dataclasses.replace(
            job,
            state=state,
            progress=Progress(stage=stage, percentage=pct, message=message),
            progress_seq=job.progress_seq + 1,
            updated_at=utcnow(),
            error=error,
            **changes,
        )
        self.jobs[job_id] = job
        for queue in self._subscribers.get(job_id, []):
            queue.put_nowait(JobEvent.of(job))
        return job

    def complete(self, job_id: str, video: Path, thumbnail: Path) -> Job:
        self.blobs |= {f"outputs/{job_id}/t.mp4": video, f"outputs/{job_id}/t.jpg": thumbnail}
        return self.advance(
            job_id,
            state=JobState.COMPLETED,
            stage="completed",
            percentage=100,
            output_key=f"outputs/{job_id}/t.mp4",
            thumbnail_key=f"outputs/{job_id}/t.jpg",
            finished_at=utcnow(),
            metadata={"output": {"duration": 2.0}, "timings": {"encoding": 1.5}},
        )


@pytest.fixture
def http_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**env: str) -> Settings:
        base = {"DATA_DIR": str(tmp_path / "data"), "TMP_DIR": str(tmp_path / "tmp")}
        base["RATE_LIMIT_PER_MINUTE"] = "0"  # as in make_settings: the limiter's tests turn it on
        return Settings.from_env(base | env)

    return make


@pytest.fixture
def fake(http_settings: Callable[..., Settings]) -> FakeRunner:
    return FakeRunner(http_settings())


@pytest.fixture
def app_client(
    aiohttp_client: MakeClient, fake: FakeRunner, http_settings: Callable[..., Settings]
) -> Callable[..., Awaitable[Client]]:
    """A client of create_app(settings, runner=fake); keyword args become settings."""

    async def make(**env: str) -> Client:
        settings = http_settings(**env)
        fake.settings = settings
        return await aiohttp_client(create_app(settings, runner=cast(Runner, fake)))

    return make


@pytest.fixture
async def client(app_client: Callable[..., Awaitable[Client]]) -> Client:
    return await app_client()


async def submit(client: Client, document: Mapping[str, Any] = DOC) -> dict[str, Any]:
    resp = await client.post("/api/v1/compositions", json=document)
    body: dict[str, Any] = await resp.json()
    assert resp.status == 202, body
    return body


def assert_envelope(body: dict[str, Any], code: str, request_id: str | None = None) -> None:
    """The SPEC.md §2 error envelope, to the letter."""
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details", "timestamp", "request_id"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert error["timestamp"].endswith("Z")
    assert error["request_id"].startswith("req_") if request_id is None else True
    if request_id is not None:
        assert error["request_id"] == request_id


async def receive_all(ws: ClientWebSocketResponse, timeout: float = 5) -> list[dict[str, Any]]:
    """Every message until the server closes."""
    messages = []
    async with asyncio.timeout(timeout):
        async for msg in ws:
            assert msg.type == WSMsgType.TEXT, msg
            messages.append(msg.json())
    return messages


async def wait_subscribed(fake: FakeRunner, job_id: str, count: int = 1) -> None:
    async with asyncio.timeout(5):
        while fake.subscribers(job_id) < count:
            await asyncio.sleep(0.005)
