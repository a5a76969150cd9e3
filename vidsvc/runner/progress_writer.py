"""ProgressWriter: a running job's progress, written to the store and published, throttled.

Render progress arrives as synchronous callbacks (many per second). One writer task stores the
newest value at most every MIN_INTERVAL seconds (a stage change goes out at once), fenced by the
lease token, and publishes each accepted write, so WebSocket clients see what the row says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from vidsvc.errors import VidsvcError
from vidsvc.jobs import Job, JobEvent, Progress
from vidsvc.store import Stores

log = logging.getLogger(__name__)
MIN_INTERVAL = 0.5
CLOSE_TIMEOUT = 10.0  #: seconds a job's last progress write may take before it is dropped


class ProgressWriter:
    def __init__(self, stores: Stores, job: Job, channel: str) -> None:
        self.stores, self.job, self.channel = stores, job, channel
        self.token = job.token
        self._latest: Progress | None = None
        self._stage = job.progress.stage
        self._wake = asyncio.Event()
        self._urgent = False
        self._task = asyncio.create_task(self._run(), name=f"progress:{job.id}")

    def update(self, progress: Progress) -> None:
        """A Reporter's sink (runner/reporter.py); never blocks."""
        self._latest = progress
        if progress.stage != self._stage:
            self._stage, self._urgent = progress.stage, True
        self._wake.set()

    async def _write(self) -> None:
        latest, self._latest = self._latest, None
        if latest is None:
            return
        try:
            row = await self.stores.jobs.record_progress(self.job.id, self.token, latest)
            if row is not None:
                await self.stores.pubsub.publish(self.channel, JobEvent.of(row).to_json())
        except VidsvcError:  # progress is advisory; the terminal write is what must land
            log.warning("progress write failed", extra={"job_id": self.job.id})

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._latest is None:
                await self._wake.wait()
            self._wake.clear()
            self._urgent = False
            await self._write()
            deadline = loop.time() + MIN_INTERVAL
            while not self._urgent and loop.time() < deadline:  # a stage change cuts it short
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(deadline - loop.time()):
                        await self._wake.wait()
                self._wake.clear()

    async def close(self) -> None:
        """Stop the writer and flush the newest value, within CLOSE_TIMEOUT: progress is
        advisory, and a store that does not answer must not hold up the job's terminal write
        (which has its own retries)."""
        if self._task.done():
            return
        self._task.cancel()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await asyncio.wait([self._task])  # its end; its cancellation is not ours
                if not self._task.cancelled() and (exc := self._task.exception()) is not None:
                    raise exc
                await self._write()
        except TimeoutError:
            log.warning("progress flush timed out", extra={"job_id": self.job.id})
