"""The per-client POST rate limit: token buckets in front of every POST.

Through the real app (with the FakeRunner) for what a client sees; TokenBuckets alone, with
a fake clock, for refill, pruning and the memory bound.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from openapi_spec_validator import validate

from tests.support.http_app import DOC, Client, FakeRunner, assert_envelope
from vidsvc.http.ratelimit import TokenBuckets

POST = "/api/v1/compositions"
MakeClient = Callable[..., Awaitable[Client]]


async def test_a_burst_past_the_limit_is_429_with_retry_after_and_writes_nothing(
    app_client: MakeClient, fake: FakeRunner
) -> None:
    """RATE_LIMIT_BURST POSTs pass; the next is 429 RATE_LIMITED in the envelope with a
    Retry-After of whole seconds, and the runner never sees it (no row)."""
    client = await app_client(RATE_LIMIT_PER_MINUTE="6", RATE_LIMIT_BURST="3")
    for _ in range(3):
        assert (await client.post(POST, json=DOC)).status == 202
    resp = await client.post(POST, json=DOC)
    assert resp.status == 429
    assert_envelope(await resp.json(), "RATE_LIMITED")
    assert 1 <= int(resp.headers["Retry-After"]) <= 10  # one token per 10 s at 6 a minute
    assert len(fake.jobs) == 3


async def test_reads_are_not_limited_and_every_post_route_is(app_client: MakeClient) -> None:
    """GETs never take a token; the internal process-clips POST shares the client's bucket."""
    client = await app_client(RATE_LIMIT_PER_MINUTE="1", RATE_LIMIT_BURST="1")
    for _ in range(5):
        assert (await client.get(POST)).status == 200
    assert (await client.post(POST, json=DOC)).status == 202
    resp = await client.post("/internal/v1/process-clips", json={})
    assert resp.status == 429
    assert_envelope(await resp.json(), "RATE_LIMITED")


async def test_forwarded_for_is_the_client_only_when_trusted(app_client: MakeClient) -> None:
    """With TRUST_FORWARDED_FOR, the first X-Forwarded-For hop is the client (each has its
    own bucket); without it, the header is ignored and every request is the peer's."""
    trusted = await app_client(
        RATE_LIMIT_PER_MINUTE="1", RATE_LIMIT_BURST="1", TRUST_FORWARDED_FOR="true"
    )
    for n in range(3):
        headers = {"X-Forwarded-For": f"203.0.113.{n}, 10.0.0.1"}
        assert (await trusted.post(POST, json=DOC, headers=headers)).status == 202
    headers = {"X-Forwarded-For": "203.0.113.0"}
    assert (await trusted.post(POST, json=DOC, headers=headers)).status == 429

    untrusted = await app_client(RATE_LIMIT_PER_MINUTE="1", RATE_LIMIT_BURST="1")
    assert (await untrusted.post(POST, json=DOC, headers=headers)).status == 202
    other = {"X-Forwarded-For": "198.51.100.9"}
    assert (await untrusted.post(POST, json=DOC, headers=other)).status == 429


async def test_zero_turns_the_limit_off(app_client: MakeClient) -> None:
    client = await app_client(RATE_LIMIT_PER_MINUTE="0", RATE_LIMIT_BURST="1")
    for _ in range(5):
        assert (await client.post(POST, json=DOC)).status == 202


def test_buckets_refill_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, 2, clock=lambda: now[0])  # one token a second
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") > 0
    now[0] += 0.5
    assert 0.4 < buckets.take("a") <= 0.5  # half a token back: half a second to go
    now[0] += 1.0
    assert buckets.take("a") == 0
    assert buckets.take("b") == 0  # another client, its own bucket


def test_idle_buckets_are_pruned_and_their_number_is_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, 5, clock=lambda: now[0], max_buckets=100)
    for n in range(500):
        buckets.take(f"10.0.{n // 256}.{n % 256}")
    assert len(buckets.buckets) == 100  # least recently seen forgotten first
    assert "10.0.1.243" in buckets.buckets and "10.0.0.0" not in buckets.buckets
    now[0] += 120  # past the prune interval and the 5 s refill: every bucket is full again
    buckets.take("late")
    assert list(buckets.buckets) == ["late"]


async def test_the_openapi_document_lists_429_on_every_post(app_client: MakeClient) -> None:
    """With the limit on, each POST documents 429 (envelope, Retry-After); the document
    still validates. With it off, no 429 is promised."""
    on = await app_client(RATE_LIMIT_PER_MINUTE="60")
    document = await (await on.get("/api/docs/openapi.json")).json()
    validate(document)
    posts = [ops["post"] for ops in document["paths"].values() if "post" in ops]
    assert posts
    for post in posts:
        assert "Retry-After" in post["responses"]["429"]["headers"]
        assert "RATE_LIMITED" in post["responses"]["429"]["description"]
    off = await app_client(RATE_LIMIT_PER_MINUTE="0")
    document = await (await off.get("/api/docs/openapi.json")).json()
    assert all(
        "429" not in ops.get("post", {}).get("responses", {}) for ops in document["paths"].values()
    )
