"""MemoryGate: renders admitted by the memory their estimates need, beside the slot count.

MAX_CONCURRENT_JOBS bounds how many renders run; it knows nothing of their size, so five
30-clip renders could need five times what the machine has. Each render reserves its estimated
peak (graph/memory.py) before its FFmpeg starts and returns it when FFmpeg ends; one that does
not fit beside the running ones waits, holding its slot, until they finish. A render larger
than the whole budget never gets here: admission refuses it (work/compositions/memory.py). The
budget is RENDER_MEMORY_MB, or by default 75 % of the machine's memory (the cgroup's limit,
where one is set).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from vidsvc.config import Settings

DEFAULT_SHARE = (
    0.75  #: of the machine's memory, for renders (the service and the OS keep the rest)
)
_CGROUP_MAX = Path("/sys/fs/cgroup/memory.max")


def machine_mb() -> int:
    """The memory this process may use: the cgroup's limit where one is set, else the RAM."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20
    try:
        limit = _CGROUP_MAX.read_text().strip()
    except OSError:
        return total
    return min(total, int(limit) >> 20) if limit.isdigit() else total


def budget_mb(settings: Settings) -> int:
    if settings.render_memory_mb:
        return settings.render_memory_mb
    return int(machine_mb() * DEFAULT_SHARE)


class MemoryGate:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.reserved = 0  #: MiB held by the renders running now
        self._changed = asyncio.Condition()

    def _fits(self, mb: int) -> bool:
        return not self.reserved or self.reserved + mb <= self.budget

    @asynccontextmanager
    async def reserve(self, mb: int) -> AsyncIterator[None]:
        """Hold `mb` for the block; wait while it does not fit beside the running renders (a
        render alone always fits: its size was checked against the budget at admission)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._fits(mb))
            self.reserved += mb
        try:
            yield
        finally:
            async with self._changed:
                self.reserved -= mb
                self._changed.notify_all()
