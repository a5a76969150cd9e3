"""RELIABILITY.md group S, S7–S9: callback_url SSRF (blocklist, DNS rebinding, redirects and
response handling).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.callback_sink import (
    Receiver,
    callback_note,
    deps_for,
    quick_backoff,
    receiver,
)
from vidsvc.config import Settings
from vidsvc.errors import ValidationError
from vidsvc.inputs import network
from vidsvc.inputs.network import PinnedResolver, is_internal_host
from vidsvc.work.clips import callbacks

__all__ = ["quick_backoff", "receiver"]  # fixtures from elsewhere

pytestmark = pytest.mark.S
Client = TestClient[web.Request, web.Application]


# -- S1: drawtext escaping and quote breakout ---------------------------------------------------
# -- S7: callback_url blocklist ---------------------

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
    "file:///etc/passwd",
    "gopher://x/",
    "ftp://example.com/cb",
    "http://user:pw@example.com/cb",
    "http:///cb",
    "http://example.com:99999/cb",
]


@pytest.mark.parametrize("url", S7_URLS)
def test_every_internal_or_malformed_callback_url_is_refused(url: str) -> None:
    """S7: static refusals, VALIDATION_ERROR naming callback_url (README's code for it)."""
    with pytest.raises(ValidationError) as info:
        callbacks.check_callback_url(url, Settings())
    assert info.value.code == "VALIDATION_ERROR"
    assert info.value.details == {"field": "callback_url"}


def test_a_listed_internal_host_port_is_allowed_and_only_that_port() -> None:
    """S7: ALLOWED_CALLBACK_HOSTS opens exactly one host:port."""
    settings = Settings(allowed_callback_hosts=("127.0.0.1:8123",))
    callbacks.check_callback_url("http://127.0.0.1:8123/cb", settings)
    with pytest.raises(ValidationError):
        callbacks.check_callback_url("http://127.0.0.1:8124/cb", settings)
    callbacks.check_callback_url("https://example.com/cb", Settings())


async def test_a_name_resolving_to_loopback_is_refused_unless_listed() -> None:
    """S7: the check runs on the resolved network."""
    with pytest.raises(ValidationError) as info:
        await callbacks.check_callback_resolves("http://localhost:8123/cb", Settings(), field="f")
    assert info.value.details == {"field": "f"}
    listed = Settings(allowed_callback_hosts=("localhost:8123",))
    await callbacks.check_callback_resolves("http://localhost:8123/cb", listed)


def _answer(host: str, ip: str, port: int) -> Any:
    return {
        "hostname": host,
        "host": ip,
        "port": port,
        "family": socket.AF_INET,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


async def test_mixed_answers_with_one_private_address_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """S7: a name whose A records mix a public and a private address is refused."""

    async def resolve(host: str, port: int) -> list[Any]:
        return [_answer(host, "93.184.216.34", port), _answer(host, "10.0.0.7", port)]

    monkeypatch.setattr(network, "resolve", resolve)
    with pytest.raises(ValidationError, match="internal address"):
        await callbacks.check_callback_resolves("http://mixed.test/cb", Settings())


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("8.8.8.8", False),
        ("media.example.com", False),
        ("2001:4860:4860::8888", False),
        ("127.0.0.1", True),
        ("0", True),
        ("0.0.0.0", True),
        ("017700000001", True),
        ("10.0.0.5", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("169.254.169.254", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("::1", True),
        ("::", True),
        ("::ffff:127.0.0.1", True),
        ("::169.254.169.254", True),
        ("2002:a00:1::", True),  # 6to4 around 10.0.0.1
        ("fc00::1", True),
        ("fd00:ec2::254", True),
        ("fe80::1%eth0", True),
        ("localhost", True),
        ("metadata.google.internal", True),
    ],
)
def test_internal_hosts(host: str, internal: bool) -> None:
    """S7: every literal form of an internal address."""
    assert is_internal_host(host) is internal


# -- S8: DNS rebinding -------------------------------------------------------------------------


async def test_a_rebind_after_the_submit_check_reaches_nothing(
    receiver: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """S8: public at submit, 127.0.0.1 at send: the send re-validates and refuses for good
    (a refusal is not retried); the 127.0.0.1 sink gets no connection. (RELIABILITY's
    203.0.113.10 is TEST-NET, rightly internal here, so a global address stands in.)"""
    rec: Receiver = await receiver([200])
    calls = 0

    async def resolve(host: str, port: int) -> list[Any]:
        nonlocal calls
        calls += 1
        ip = "93.184.216.34" if calls == 1 else "127.0.0.1"
        return [_answer(host, ip, port)]

    monkeypatch.setattr(network, "resolve", resolve)
    url = f"http://rebind.test:{rec.port}/cb"
    deps, job = await deps_for(rec, allowed_callback_hosts=(), callback_max_attempts=3)
    await callbacks.check_callback_resolves(url, deps.settings)  # passes: public
    assert await callbacks.deliver(deps, job, url) is False
    assert rec.hits == {}
    attempts = (await callback_note(deps, job))["attempts"]
    assert len(attempts) == 1 and attempts[0]["refused"] is True
    assert calls == 2  # resolved again before sending


async def test_the_connection_goes_only_to_the_checked_address() -> None:
    """S8: the pinned resolver answers the checked addresses whatever DNS says now."""
    pinned = PinnedResolver([_answer("rebind.test", "93.184.216.34", 80)])
    answers = await pinned.resolve("rebind.test", 80, socket.AF_INET)
    assert [a["host"] for a in answers] == ["93.184.216.34"]


async def test_an_unlisted_internal_target_is_refused_at_send_time(
    receiver: Callable[..., Any],
) -> None:
    """S8: the check runs again at send time."""
    rec: Receiver = await receiver([200])
    deps, job = await deps_for(rec, allowed_callback_hosts=())
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert rec.hits == {}
    [attempt] = (await callback_note(deps, job))["attempts"]
    assert "internal" in attempt["error"]


# -- S9: redirects and response handling --------------------------------------------------------


async def test_a_redirect_is_not_followed(receiver: Callable[..., Any]) -> None:
    """S9: a 302 ends the delivery as failed and its target is never requested."""
    rec: Receiver = await receiver([302, 302])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert "/elsewhere" not in rec.hits
    note = await callback_note(deps, job)
    assert note["attempts"][0]["status"] == 302


@pytest.fixture
async def hostile_sink() -> AsyncIterator[int]:
    """/huge streams 50 MB; /endless sends headers then never finishes the body."""

    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        chunk = b"S" * 65536
        try:
            for _ in range(800):
                await resp.write(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"E" * 100)
        await asyncio.sleep(3600)
        return resp

    app = web.Application()
    app.router.add_post("/huge", huge)
    app.router.add_post("/endless", endless)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


@pytest.mark.parametrize("path", ["/huge", "/endless"])
async def test_the_answer_is_peeked_never_stored(
    receiver: Callable[..., Any], hostile_sink: int, path: str
) -> None:
    """S9: a 50 MB body or an answer that never ends: the attempt is noted (status or timeout),
    nothing of the body is kept on the job."""
    rec: Receiver = await receiver([])
    deps, job = await deps_for(
        rec,
        allowed_callback_hosts=(f"127.0.0.1:{hostile_sink}",),
        callback_timeout=1.0,
        callback_max_attempts=1,
    )
    url = f"http://127.0.0.1:{hostile_sink}{path}"
    await callbacks.deliver(deps, job, url)
    note = await callback_note(deps, job)
    [attempt] = note["attempts"]
    assert set(attempt) <= {"at", "status", "error", "duration_ms", "refused"}
    assert "SSS" not in repr(note) and "EEE" not in repr(note)
    if path == "/endless":
        assert "Timeout" in attempt.get("error", "") or attempt.get("status") == 200
