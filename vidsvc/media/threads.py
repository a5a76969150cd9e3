"""How many encoder threads one render gets (FFMPEG_THREADS, SPEC.md §5; issue #6).

Left alone, every FFmpeg sizes x264 for the whole machine (about 1.5 threads per core plus
lookahead), so MAX_CONCURRENT_JOBS renders on a small host run five times the threads there are
cores, and the context switching and cache thrash cost throughput. Sized for the worst case
(cores // MAX_CONCURRENT_JOBS) a render running alone would be slowed instead. So the share
is decided when a render's command is compiled, from the renders under way here: alone it
gets the whole machine, with others it gets its part, and never less than one thread. "Under
way" counts from the render's start (`counted`), not from its FFmpeg's: jobs claimed together
compile together, before any of them has an FFmpeg running. A render keeps its count to the
end (FFmpeg cannot be resized), so the policy is a fair share, not a cap.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from vidsvc.config import Settings
from vidsvc.media.children import cores
from vidsvc.media.ffmpeg import running_renders

AUTO = -1  #: FFMPEG_THREADS=auto: no -threads option, FFmpeg decides (the "both ways" baseline)
P = ParamSpec("P")
T = TypeVar("T")
_UNDER_WAY = [0]  #: renders (compositions, clips) between their start and their end
#: The time integral of _UNDER_WAY (render-seconds) and when it was last brought up to date:
#: the difference of two marks over their time apart is how many renders shared the machine.
_AREA = [0.0, time.monotonic()]


def counted(
    render: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Count a render as under way for as long as the wrapped coroutine runs."""

    @functools.wraps(render)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        mark()
        _UNDER_WAY[0] += 1
        try:
            return await render(*args, **kwargs)
        finally:
            mark()
            _UNDER_WAY[0] -= 1

    return wrapper


def mark() -> tuple[float, float]:
    """(render-seconds so far, now): bring the integral up to date and return it."""
    now = time.monotonic()
    _AREA[0] += _UNDER_WAY[0] * (now - _AREA[1])
    _AREA[1] = now
    return _AREA[0], now


def sharing_since(start: tuple[float, float]) -> float:
    """How many renders were under way on average since `start` (a mark() taken by one of
    them, so never less than 1): the estimator's measure of how the machine was shared."""
    area, now = mark()
    elapsed = now - start[1]
    return max(1.0, (area - start[0]) / elapsed) if elapsed > 0 else 1.0


def share(cores: int, running: int, max_concurrent: int) -> int:
    """Threads for a render starting now beside `running` others: x264's own 1.5 per core,
    divided among the renders that will share the cores (at most MAX_CONCURRENT_JOBS)."""
    sharing = min(running + 1, max(max_concurrent, 1))
    return max(1, (3 * cores) // (2 * sharing))


def threads_for_job(settings: Settings) -> int:
    """The `threads` of graph.Encoding: 0 means "no -threads option" (FFmpeg's choice)."""
    if settings.ffmpeg_threads == AUTO:
        return 0
    if settings.ffmpeg_threads > 0:
        return settings.ffmpeg_threads
    # the caller is one of those under way; FFmpeg started outside `counted` still counts
    others = max(_UNDER_WAY[0] - 1, running_renders())
    return share(cores(), others, settings.max_concurrent_jobs)
