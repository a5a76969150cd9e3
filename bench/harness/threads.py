"""How many threads the FFmpegs really ran: sampled from /proc, and x264's own record.

A threading policy is only a setting; what decides contention is the threads each FFmpeg
starts. Two measures: the OS thread count of every FFmpeg child of the server, sampled
while it runs, and the `threads=N lookahead_threads=M` x264 writes into the stream's
SEI (so an output file tells which thread count its encoder used).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_EVERY = 0.25
_X264_THREADS = re.compile(rb"x264 - core \d+.*? threads=(\d+) lookahead_threads=(\d+)")
#: x264's options string sits in the first frame, after a faststart moov: well inside this.
_HEAD_BYTES = 4 << 20


def x264_threads(path: Path) -> tuple[int, int] | None:
    """(threads, lookahead_threads) that x264 recorded in `path`, or None."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
    except OSError:
        return None
    found = _X264_THREADS.search(head)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _children(parent: int) -> list[int]:
    """Pids whose parent is `parent` (FFmpeg and ffprobe are the server's own children)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited meanwhile
        comm_end = text.rfind(")")
        fields = text[comm_end + 2 :].split()
        if fields and int(fields[1]) == parent:
            pids.append(int(stat.parent.name))
    return pids


def ffmpeg_status(pid: int, key: str) -> int | None:
    """A number of an FFmpeg's /proc status (`Threads`, `VmHWM` in kB); None for another
    process (a fork not yet exec'd included) or one that has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    if not status.startswith("Name:\tffmpeg"):
        return None
    for line in status.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


@dataclass
class ThreadSampler:
    """Samples the server's FFmpeg children until stopped: peak threads of each FFmpeg."""

    parent: int
    peak: dict[int, int] = field(default_factory=dict)  #: ffmpeg pid -> most threads seen
    concurrent: list[int] = field(default_factory=list)  #: FFmpegs alive at each sample

    async def run(self) -> None:
        while True:
            alive = 0
            for pid in await asyncio.to_thread(_children, self.parent):
                threads = ffmpeg_status(pid, "Threads")
                if threads is not None:
                    alive += 1
                    self.peak[pid] = max(self.peak.get(pid, 0), threads)
            self.concurrent.append(alive)
            await asyncio.sleep(SAMPLE_EVERY)

    def summary(self) -> str:
        if not self.peak:
            return "no FFmpeg sampled"
        counts = Counter(self.peak.values())
        shown = ", ".join(f"{n} threads ×{c}" for n, c in sorted(counts.items()))
        most = max(self.concurrent, default=0)
        return f"OS threads per FFmpeg (peak): {shown}; up to {most} FFmpegs at once"


def outputs_threads(paths: list[Path]) -> str:
    """x264's recorded thread counts over `paths`, e.g. "threads=3 lookahead=1 ×5"."""
    seen = Counter(x264_threads(p) for p in paths)
    parts = []
    for value, count in sorted(seen.items(), key=lambda kv: str(kv[0])):
        label = "unknown" if value is None else f"threads={value[0]} lookahead={value[1]}"
        parts.append(f"{label} ×{count}")
    return ", ".join(parts) if parts else "no outputs"
