"""BeatDetector: the route's analyses, inside the concurrency budget, shared, and bounded.

One per app (vidsvc/http/beats.py makes it at start-up from the pool's `slot`, a unit of the
budget renders take too: vidsvc/runner/budget.py). A request

1. is admitted while fewer than MAX_PENDING requests are under way in this process (staging,
   hashing, waiting or analysing); the next is a 503 QUEUE_FULL with Retry-After at once;
2. stages its URL (the input rules and size caps) and hashes the bytes: no unit is needed for
   that, since no FFmpeg runs;
3. answers from the cache (detect.py), or joins the analysis of the same bytes already in
   flight, or starts one: a task that waits at most WAIT_SECONDS for a unit (then a 503
   SERVICE_UNAVAILABLE with Retry-After) and probes, decodes and tracks under it
   (detect.analyse), so the PCM never exists outside a unit.

An analysis is shared by sha256: its outcome, answer or error, goes to every request waiting on
it. A waiter that goes away leaves it running for the others; when the last one has gone it is
cancelled (FFmpeg is stopped), so nothing is analysed for no one. The staged file moves into
the analysis' own scratch directory, which goes when the analysis ends, so the request that
started it may end first. Entries leave the table when their analysis ends; answers stay in the
cache. Same bytes, not same URL: a URL may serve other bytes next time, and bytes are what the
cache and the answer's sha256 name.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from vidsvc.beats import detect
from vidsvc.beats.detect import Detected
from vidsvc.config import Settings
from vidsvc.errors import QueueFull, ServiceUnavailable
from vidsvc.inputs import staging

#: Requests under way per process; each may hold a staged input (up to MAX_INPUT_BYTES on disk).
MAX_PENDING = 16
#: The longest an analysis waits for a unit: a render may hold one for minutes, an HTTP client
#: should not wait that long.
WAIT_SECONDS = 60.0
RETRY_AFTER_S = 5

#: A unit of the concurrency budget, held for the block (WorkerPool.slot).
Slot = Callable[[], AbstractAsyncContextManager[None]]


@dataclass(slots=True)
class _Shared:
    task: asyncio.Task[Detected]
    waiters: int = 0


class BeatDetector:
    def __init__(
        self, slot: Slot, *, max_pending: int = MAX_PENDING, wait_seconds: float = WAIT_SECONDS
    ) -> None:
        self.slot = slot
        self.max_pending = max_pending
        self.wait_seconds = wait_seconds
        self.pending = 0  #: requests admitted and not yet answered
        self._shared: dict[str, _Shared] = {}

    @property
    def in_flight(self) -> int:
        """Analyses started and not yet ended (each may be shared by several requests)."""
        return len(self._shared)

    @property
    def waiters(self) -> int:
        """Requests waiting on an analysis in flight (theirs or one they joined)."""
        return sum(shared.waiters for shared in self._shared.values())

    async def detect(self, url: str, settings: Settings) -> Detected:
        """The beats of the input at `url` (staged under the input URL rules)."""
        if self.pending >= self.max_pending:
            raise QueueFull(
                f"beat detection: {self.pending} requests are under way "
                f"(at most {self.max_pending} per instance)",
                details={"retry_after": RETRY_AFTER_S},
            )
        self.pending += 1
        try:
            async with detect.scratch(settings, "beats-input") as work:
                staged = await staging.stage([url], work, settings, fields={url: "url"})
                sha256 = await detect.digest(staged[url])
                if (found := detect.lookup(sha256)) is not None:
                    return found
                return await self._join(sha256, staged[url], settings)
        finally:
            self.pending -= 1

    async def _join(self, sha256: str, staged: Path, settings: Settings) -> Detected:
        shared = self._shared.get(sha256) or self._start(sha256, staged, settings)
        shared.waiters += 1
        try:
            return await asyncio.shield(shared.task)
        finally:
            shared.waiters -= 1
            if shared.waiters == 0 and not shared.task.done():
                shared.task.cancel()  # the last waiter went away: no one wants the answer

    def _start(self, sha256: str, staged: Path, settings: Settings) -> _Shared:
        # All before the task runs: the file is the analysis' before its request may end.
        work = detect.make_scratch(settings, "beats")
        local = work / f"in{staged.suffix}"
        staged.rename(local)  # both under TMP_DIR; a staged symlink (file://) moves as itself
        task = asyncio.create_task(self._analyse(local, sha256, settings), name="beats")
        shared = self._shared[sha256] = _Shared(task)

        def ended(_: asyncio.Task[Detected]) -> None:
            if self._shared.get(sha256) is shared:
                del self._shared[sha256]
            detect.remove_scratch(work, settings)  # here: a task cancelled unstarted too

        task.add_done_callback(ended)
        return shared

    async def _analyse(self, local: Path, sha256: str, settings: Settings) -> Detected:
        async with self._unit():
            return await detect.analyse(local, sha256, settings, field="url")

    @asynccontextmanager
    async def _unit(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await stack.enter_async_context(self.slot())
            except TimeoutError:
                raise ServiceUnavailable(
                    f"beat detection: no free slot within {self.wait_seconds:g} s (analyses "
                    "share MAX_CONCURRENT_JOBS with renders, which go first)",
                    details={"retry_after": RETRY_AFTER_S},
                ) from None
            yield

    async def close(self) -> None:
        """Stop the analyses still running (the service is stopping)."""
        tasks = [shared.task for shared in self._shared.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
