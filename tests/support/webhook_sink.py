"""A real HTTP receiver for composition webhooks, run in the test's event loop.

`Sink` answers from a script (a status, `"sleep"` past the sender's timeout, or `"redirect"` to
another receiver) and records every hit; `verify` checks a hit's signature with the secret the
way a receiver would. Used by tests/unit/callbacks and the webhook tests of tests/unit/http,
tests/acceptance/service and tests/acceptance/reliability.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

SECRET = "webhook-secret"
EVENT_ID = "X-Vidsvc-Event-Id"
SIGNATURE = "X-Vidsvc-Signature"


@dataclass
class Hit:
    headers: dict[str, str]
    raw: bytes
    answered: int  #: the status answered (0: the sender gave up first)
    at: float = field(default_factory=time.monotonic)

    @property
    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.raw)
        return doc

    @property
    def event_id(self) -> str:
        return self.headers[EVENT_ID]


@dataclass
class Sink:
    """Answers each POST with the next step of `script` (then `then`), recording it; with
    `per_event`, each event id gets that script of its own (one 500 each, say)."""

    script: list[int | str] = field(default_factory=list)
    then: int | str = 200
    per_event: list[int | str] | None = None
    redirect_to: str = ""
    hits: list[Hit] = field(default_factory=list)
    port: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        step = self.script.pop(0) if self.script else self.then
        if self.per_event is not None:
            seen = sum(h.event_id == request.headers.get(EVENT_ID) for h in self.hits)
            step = self.per_event[seen] if seen < len(self.per_event) else self.then
        hit = Hit(dict(request.headers), raw, 0)
        self.hits.append(hit)
        if step == "sleep":  # past any CALLBACK_TIMEOUT the tests set
            await asyncio.sleep(30)
            return web.Response(status=200)
        if step == "redirect":
            hit.answered = 307
            raise web.HTTPTemporaryRedirect(self.redirect_to)
        hit.answered = int(step)
        return web.Response(status=int(step), text="ok" * 3000)  # more than the sender reads

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}{path}"

    def delivered(self) -> list[Hit]:
        return [h for h in self.hits if 200 <= h.answered < 300]

    async def until(self, count: int, timeout: float = 30) -> list[Hit]:
        """Wait for `count` hits answered 2xx; every hit so far."""
        async with asyncio.timeout(timeout):
            while len(self.delivered()) < count:
                await asyncio.sleep(0.02)
        return self.hits


MakeSink = Callable[..., Awaitable[Sink]]


@pytest.fixture
async def sink() -> AsyncIterator[MakeSink]:
    """`await sink([500, "sleep"], then=200)`: a started receiver on 127.0.0.1."""
    runners: list[web.AppRunner] = []

    async def start(script: list[int | str] | None = None, *, then: int | str = 200) -> Sink:
        rec = Sink(list(script or []), then)
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", rec.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        rec.port = runner.addresses[0][1]
        return rec

    yield start
    for runner in runners:
        await runner.cleanup()


def verify(hit: Hit, secret: str = SECRET) -> None:
    """The signature a receiver checks: `t=<unix>,v1=<HMAC-SHA256 of "t.body">`, recent."""
    stamp, _, mac = hit.headers[SIGNATURE].partition(",v1=")
    at = stamp.removeprefix("t=")
    expected = hmac.new(secret.encode(), f"{at}.".encode() + hit.raw, hashlib.sha256)
    assert hmac.compare_digest(mac, expected.hexdigest()), "bad signature"
    assert abs(time.time() - int(at)) < 300, "stale signature"
