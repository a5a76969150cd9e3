"""One job's events for a watcher (a WebSocket), from pub/sub with the row as the fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from vidsvc.errors import StorageError
from vidsvc.jobs import Job, JobEvent

WATCH_POLL_S = 2.0


async def newer(
    seen: int, messages: AsyncIterator[bytes], reread: Callable[[], Awaitable[Job]]
) -> AsyncIterator[JobEvent]:
    """Events after `seen`, in order. When pub/sub goes quiet for WATCH_POLL_S (Redis
    restarting, an event lost) the row is read instead, so a watcher never hangs on a job
    that moved on; the seq filter drops what arrives twice."""
    pending: asyncio.Future[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(messages))
            done, _ = await asyncio.wait({pending}, timeout=WATCH_POLL_S)
            if done:
                finished, pending = pending, None
                try:
                    event = JobEvent.from_json(finished.result())
                except StopAsyncIteration:  # the pub/sub closed: we are shutting down
                    return
            else:
                try:
                    event = JobEvent.of(await reread())
                except StorageError:  # the database blinked too: try again next round
                    continue
            if event.seq > seen:
                seen = event.seq
                yield event
    finally:
        if pending is not None:
            pending.cancel()
