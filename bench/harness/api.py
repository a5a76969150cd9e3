"""The benchmark's service client: the reference as API JSON, submit, wait, read metadata.

POST and metadata go through vidsvc.client. Waiting is what a frontend does: open the
`websocket_url` of the 202 body and read until the `completed` (or `error`) message (by
hand, not client.wait(), whose closing GET would add a round trip to the measured `notify`).
The server sends the current state on connect, so a job that finished before the socket
opened is still reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import aiohttp

from bench.harness.reference import reference_spec
from bench.harness.server import Server
from vidsvc.client import AsyncClient, VidsvcClientError

COMPOSITIONS = "/api/v1/compositions"
JOB_TIMEOUT = 600.0
#: The render's own stages, in order, as the job's metadata `timings` names them.
STAGES = ("queued", "downloading", "validating", "encoding", "uploading")


class JobFailed(RuntimeError):
    pass


def url_spec(preset: str, media_dir: Path) -> dict[str, object]:
    """reference_spec with every input as an absolute file:// URL (the API takes URLs only)."""
    spec = reference_spec(preset)

    def absolute(relative: object) -> str:
        # reference_spec names inputs "media/<file>"; the file lives in media_dir.
        return (media_dir / Path(str(relative)).name).resolve().as_uri()

    for clip in cast(list[dict[str, object]], spec["clips"]):
        clip["url"] = absolute(clip["url"])
    audio = cast(dict[str, object], spec["audio"])
    for key in ("music_url", "voiceover_url"):
        audio[key] = absolute(audio[key])
    return spec


@dataclass
class Submitted:
    """One job as the client saw it, and its metadata once fetched."""

    id: str
    websocket_url: str
    posted_at: float  #: time.time() just before the POST (comparable with server stamps)
    started: float  #: perf_counter() just before the POST
    post_seconds: float  #: the POST's round trip
    estimate: float | None  #: the 202's estimated_duration
    done: float | None = None  #: perf_counter() when the client learnt it completed
    done_at: float | None = None  #: time.time() of the same moment
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        if self.done is None:
            raise JobFailed(f"{self.id} has not completed")
        return self.done - self.started


async def submit(session: aiohttp.ClientSession, base: str, spec: dict[str, object]) -> Submitted:
    """POST the composition (vidsvc.client on the caller's session); JobFailed if refused."""
    posted_at, started = time.time(), time.perf_counter()
    try:
        accepted = await AsyncClient(base, session=session).submit(spec)
    except VidsvcClientError as exc:
        raise JobFailed(f"POST {COMPOSITIONS}: {exc.status} {exc}") from None
    post_seconds = time.perf_counter() - started
    return Submitted(
        id=accepted.composition_id,
        websocket_url=accepted.websocket_url,
        posted_at=posted_at,
        started=started,
        post_seconds=post_seconds,
        estimate=accepted.estimated_duration,
    )


def mark_done(job: Submitted) -> None:
    job.done, job.done_at = time.perf_counter(), time.time()


async def wait_ws(session: aiohttp.ClientSession, job: Submitted) -> None:
    """Read the job's WebSocket until `completed`; raises JobFailed on `error` or a close."""
    async with session.ws_connect(job.websocket_url, receive_timeout=JOB_TIMEOUT) as ws:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            message = msg.json()
            if message.get("type") == "completed":
                mark_done(job)
                return
            if message.get("type") == "error":
                raise JobFailed(f"{job.id} failed: {message.get('data')}")
    raise JobFailed(f"{job.id}: the WebSocket closed ({ws.close_code}) before completion")


async def service_once(
    session: aiohttp.ClientSession, server: Server, spec: dict[str, object]
) -> tuple[Submitted, float]:
    """One composition, POST to `completed`; (job with metadata, server CPU seconds)."""
    before = server.cpu()
    job = await submit(session, server.base, spec)
    await wait_ws(session, job)
    cpu = (server.cpu() - before).total
    await fetch_metadata(session, server.base, job)
    return job, cpu


async def fetch_metadata(session: aiohttp.ClientSession, base: str, job: Submitted) -> None:
    try:
        job.meta = await AsyncClient(base, session=session).metadata(job.id)
    except VidsvcClientError as exc:
        raise JobFailed(f"GET {job.id}/metadata: {exc.status} {exc}") from None


def stamp(value: object) -> float:
    """An ISO-8601 `…Z` stamp of the API as a time.time() value."""
    return datetime.fromisoformat(str(value)).timestamp()


def breakdown(job: Submitted) -> dict[str, float]:
    """Where a job's wall time went, in seconds, from client clocks and its metadata.

    post: the POST's round trip; dispatch: created_at → started_at (backlog wake-up and
    claim); then the render's stages (queued is its set-up before staging starts);
    ffmpeg: the FFmpeg process alone, within encoding; store: started_at + the stages →
    finished_at (storing output and thumbnail, probing the output, the final write);
    notify: finished_at → the client holds the `completed` message.
    """
    meta = job.meta
    timings: dict[str, float] = meta.get("timings") or {}
    created, started = stamp(meta["created_at"]), stamp(meta["started_at"])
    finished = stamp(meta["finished_at"])
    staged = sum(timings.values())
    out = {"post": job.post_seconds, "dispatch": started - created}
    out |= {stage: float(timings.get(stage, 0.0)) for stage in STAGES}
    out["ffmpeg"] = float(meta.get("render_seconds") or 0.0)
    out["store"] = finished - started - staged
    out["notify"] = (job.done_at or finished) - finished
    return out


def output_duration(job: Submitted) -> float | None:
    output = job.meta.get("output")
    duration = output.get("duration") if isinstance(output, dict) else None
    return float(duration) if isinstance(duration, int | float) else None


@dataclass
class ServiceRuns:
    """The measured service renders (warm-ups apart) and the server CPU of each."""

    jobs: list[Submitted] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    warmups: list[Submitted] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [job.wall for job in self.jobs]


@dataclass
class Group:
    """The jobs of one kind from one server, in the order they were posted."""

    name: str
    jobs: list[Submitted]
    history: list[Submitted] = field(default_factory=list)  #: every job on the same server
