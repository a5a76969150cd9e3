"""A per-client rate limit on POSTs: a token bucket per client address.

Every POST (compositions, internal clip processing, the dev API) takes one token from its
client's bucket, which holds RATE_LIMIT_BURST tokens and refills at RATE_LIMIT_PER_MINUTE;
an empty bucket is 429 RATE_LIMITED with Retry-After, before the handler runs, so nothing
is written. RATE_LIMIT_PER_MINUTE=0 turns it off. The client is the peer address, or the
first X-Forwarded-For hop when TRUST_FORWARDED_FOR (only behind a proxy that sets it).

Memory stays bounded: a bucket that has refilled is the same as no bucket, so idle buckets
are pruned, and past MAX_BUCKETS the least recently seen client is forgotten.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from vidsvc.config import Settings
from vidsvc.errors import RateLimited
from vidsvc.http.keys import OPENAPI_KEY, SETTINGS_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Clients remembered at most; beyond, the least recently seen is forgotten (a full bucket).
MAX_BUCKETS = 100_000
#: How often (seconds) idle buckets are swept.
PRUNE_EVERY_S = 60.0
ERROR_ENVELOPE = "#/components/schemas/ErrorEnvelope"


def client_address(request: web.Request, settings: Settings) -> str:
    """Who is asking: the peer, or the first X-Forwarded-For hop when told to trust it."""
    if settings.trust_forwarded_for:
        first = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(first))  # normalised; junk falls back to the peer
        except ValueError:
            pass
    return request.remote or "unknown"


class TokenBuckets:
    """One bucket per key; `take(key)` is 0.0 when allowed, else the seconds until a token."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.clock = clock
        self.max_buckets = max_buckets
        #: key → (tokens, when they were counted); least recently seen first.
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._pruned = clock()

    def take(self, key: str) -> float:
        now = self.clock()
        self._prune(now)
        tokens, then = self.buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self.buckets[key] = (tokens, now)  # re-inserted: now the most recently seen
        while len(self.buckets) > self.max_buckets:
            self.buckets.popitem(last=False)
        return wait

    def _prune(self, now: float) -> None:
        if now - self._pruned < PRUNE_EVERY_S:
            return
        self._pruned = now
        full_after = self.burst / self.rate  # seconds for an empty bucket to refill
        for key in [k for k, (_, then) in self.buckets.items() if now - then >= full_after]:
            del self.buckets[key]


def rate_limit_middleware(settings: Settings) -> Middleware:
    buckets = TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)

    @web.middleware
    async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST":
            wait = buckets.take(client_address(request, settings))
            if wait > 0:
                raise RateLimited(
                    f"too many requests; at most {settings.rate_limit_per_minute} POSTs a "
                    f"minute (bursts of {settings.rate_limit_burst}) per client",
                    details={"retry_after": max(1, math.ceil(wait))},
                )
        return await handler(request)

    return rate_limit


def document_rate_limit(app: web.Application) -> None:
    """When the limit is on, every POST of the OpenAPI document (built by setup_docs, which
    runs before this) may answer 429 RATE_LIMITED with Retry-After."""
    if app[SETTINGS_KEY].rate_limit_per_minute <= 0:
        return
    for operations in app[OPENAPI_KEY].get("paths", {}).values():
        post = operations.get("post")
        if post is None:
            continue
        post.setdefault("responses", {})["429"] = {
            "description": "RATE_LIMITED: over RATE_LIMIT_PER_MINUTE / RATE_LIMIT_BURST POSTs "
            "for this client",
            "content": {"application/json": {"schema": {"$ref": ERROR_ENVELOPE}}},
            "headers": {
                "Retry-After": {
                    "description": "seconds to wait before retrying",
                    "schema": {"type": "integer"},
                }
            },
        }


def setup_rate_limit(app: web.Application, settings: Settings) -> None:
    """Register the limiter (inside the error middleware, so a 429 is an envelope)."""
    if settings.rate_limit_per_minute > 0:
        app.middlewares.append(rate_limit_middleware(settings))
