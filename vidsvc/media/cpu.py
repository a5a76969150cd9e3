"""CPU-bound Python off the event loop: one small thread pool that preparing a render uses.

Laying out a caption file the caps allow, building its ASS document and the graph, and
validating a large body take seconds of pure Python (docs/reliability.md L9). On the loop they
froze every request and let other jobs' leases lapse; on the default executor they would queue
behind (and in front of) file I/O. Here they run on THREADS threads of their own, so two jobs
prepare at once and the rest wait their turn without holding the loop. The loop still needs the
GIL at every wake-up; CPython makes a busy thread hand it over after the switch interval, 5 ms
by default, so a request needing a dozen wake-ups could wait 60 ms behind a layout: the first
use of these threads sets it to SWITCH_INTERVAL (1 ms; the threads lose nothing measurable).
One C call that runs long holds the GIL whatever the interval: work here goes in pieces (a
caption file's characters are gathered cue by cue, not as one 5 MB string). A cancelled caller
stops waiting at
once; the function itself runs to its end (threads cannot be interrupted), which the caps bound.

Imports nothing from vidsvc.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

THREADS = 2
SWITCH_INTERVAL = 0.001
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        sys.setswitchinterval(min(SWITCH_INTERVAL, sys.getswitchinterval()))
        _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="vidsvc-cpu")
    return _pool


async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on the preparation threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), functools.partial(fn, *args, **kwargs))
