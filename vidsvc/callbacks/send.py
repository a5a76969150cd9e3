"""One signed POST to a callback URL, and the policy that says whether to try again.

Every attempt re-checks the URL (target.py) and connects only to the addresses it checked;
redirects are never followed (a 3xx could point anywhere: it is a failed attempt); the answer
is read up to RESPONSE_PEEK bytes and never kept. The body is signed with CALLBACK_SECRET over
a timestamp, so a receiver can refuse an old delivery replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from vidsvc.callbacks.target import checked_answers
from vidsvc.config import Settings
from vidsvc.errors import ValidationError
from vidsvc.inputs import network
from vidsvc.jobs import utcnow

#: Enough of the receiver's answer to see it replied; the rest is not our business.
RESPONSE_PEEK = 4096
SIGNATURE_HEADER = "X-Vidsvc-Signature"
EVENT_ID_HEADER = "X-Vidsvc-Event-Id"


def sign(secret: str, body: bytes, at: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed too, so a
    receiver can refuse replays of an old delivery."""
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def headers(settings: Settings, body: bytes, event_id: str) -> dict[str, str]:
    """The event id on every attempt (receivers deduplicate by it); the signature when a
    CALLBACK_SECRET is set."""
    out = {"Content-Type": "application/json", EVENT_ID_HEADER: event_id}
    if settings.callback_secret:
        out[SIGNATURE_HEADER] = sign(settings.callback_secret, body, int(time.time()))
    return out


async def post(url: str, settings: Settings, body: bytes, event_id: str) -> int:
    """One POST to the checked, pinned addresses; the HTTP status (no redirect followed)."""
    answers = await checked_answers(url, settings)
    connector = aiohttp.TCPConnector(resolver=network.PinnedResolver(answers), use_dns_cache=False)
    timeout = aiohttp.ClientTimeout(total=settings.callback_timeout)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
        session.post(
            url,
            data=body,
            headers=headers(settings, body, event_id),
            allow_redirects=False,
        ) as resp,
    ):
        await resp.content.read(RESPONSE_PEEK)  # read a little so the receiver is not cut off
        return resp.status


async def attempt(url: str, settings: Settings, body: bytes, event_id: str) -> dict[str, Any]:
    """One attempt as it is noted: {at, status | error (+ refused), duration_ms}."""
    at = utcnow().isoformat().replace("+00:00", "Z")
    started = time.monotonic()
    note: dict[str, Any] = {"at": at}
    try:
        note["status"] = await post(url, settings, body, event_id)
    except ValidationError as exc:
        note["error"], note["refused"] = exc.message, True
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        note["error"] = f"{type(exc).__name__}: {exc}"[:300]
    note["duration_ms"] = round((time.monotonic() - started) * 1000)
    return note


def delivered(note: Mapping[str, Any]) -> bool:
    return 200 <= int(note.get("status", 0)) < 300


def retryable(note: Mapping[str, Any]) -> bool:
    """Network errors, timeouts, 5xx and 429 may pass later; a refusal, 3xx or 4xx will not."""
    if "status" not in note:
        return not note.get("refused", False)
    status = int(note["status"])
    return status >= 500 or status == 429


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry `attempt` + 1 (attempt is 1-based): base · 2^(attempt−1), capped."""
    return float(min(base * 2 ** (attempt - 1), cap))
