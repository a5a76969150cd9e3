"""Readiness of each component the service depends on, for /health/detailed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from vidsvc.config import Settings
from vidsvc.errors import StorageError
from vidsvc.media.ffmpeg import ffmpeg_version
from vidsvc.store import Stores

TIMEOUT_S = 5.0  #: a component slower than this to answer is as good as down


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, timeout=TIMEOUT_S)
    except Exception:
        return "unhealthy"
    return "healthy"


async def components(settings: Settings, stores: Stores) -> dict[str, str]:
    """`healthy`, `unhealthy` or `disabled` (not configured) per component."""
    configured = stores.configured
    return {
        "database": await _check(stores.jobs.ping()),
        "redis": await _check(_redis_ready(stores)) if "redis" in configured else "disabled",
        "s3": await _check(stores.blobs.ping()) if "s3" in configured else "disabled",
        "ffmpeg": await _check(ffmpeg_version(settings)),
    }


async def _redis_ready(stores: Stores) -> None:
    """Reachable, and not evicting: under memory pressure an evicting Redis drops queued
    ids (docs/reliability.md D2), so such an instance reports not ready until it is fixed."""
    await stores.backlog.size()
    policy = getattr(stores.backlog, "eviction_policy", None)
    if policy is not None and await policy() not in ("noeviction", "unknown"):
        raise StorageError("Redis maxmemory-policy is not noeviction")
