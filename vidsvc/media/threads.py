"""How many encoder threads one render gets (FFMPEG_THREADS, docs/contract.md §5).

Left alone, every FFmpeg sizes x264 for the whole machine (about 1.5 threads per core plus
lookahead), so MAX_CONCURRENT_JOBS renders on a small host run five times the threads there are
cores, and the context switching and cache thrash cost throughput. Sized for the worst case
(cores // MAX_CONCURRENT_JOBS) a render running alone would be slowed instead. So the share
is decided when a render's command is compiled, from the renders under way (media/load.py):
alone it gets the whole machine, with others it gets its part, and never less than one thread.
"Under way" counts from a job's claim, not from its FFmpeg's start: jobs claimed together
compile together, before any of them has an FFmpeg running. A render keeps its count to the
end (FFmpeg cannot be resized), so the policy is a fair share, not a cap.
"""

from __future__ import annotations

from vidsvc.config import Settings
from vidsvc.media.children import cores
from vidsvc.media.load import Load

AUTO = -1  #: FFMPEG_THREADS=auto: no -threads option, FFmpeg decides (the "both ways" baseline)


def share(cores: int, running: int, max_concurrent: int) -> int:
    """Threads for a render starting now beside `running` others: x264's own 1.5 per core,
    divided among the renders that will share the cores (at most MAX_CONCURRENT_JOBS)."""
    sharing = min(running + 1, max(max_concurrent, 1))
    return max(1, (3 * cores) // (2 * sharing))


def threads_for_job(settings: Settings, load: Load) -> int:
    """The `threads` of graph.Encoding for a render counted in `load`: 0 means "no -threads
    option" (FFmpeg's choice)."""
    if settings.ffmpeg_threads == AUTO:
        return 0
    if settings.ffmpeg_threads > 0:
        return settings.ffmpeg_threads
    others = max(load.under_way - 1, 0)  # the caller is one of those under way
    return share(cores(), others, settings.max_concurrent_jobs)
