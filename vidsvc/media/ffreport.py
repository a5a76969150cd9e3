"""What one FFmpeg child cost: its CPU time and peak memory, as FFmpeg itself measured them.

`getrusage(RUSAGE_CHILDREN)` in the parent sums every child reaped so far, so concurrent
renders blur it, and the exact route (wait4 on the pid) would race asyncio's child watcher,
which reaps the child itself. FFmpeg's global `-benchmark` option instead prints its own
getrusage at exit (`bench: utime=…s stime=…s rtime=…s`, `bench: maxrss=…kB`), but at the info
log level, which the renders' `-loglevel warning` hides. FFREPORT writes a second log, at a
level of its own, into a file: an info-level report in the child's working directory carries
the bench lines without touching stderr (which stays the short, warnings-only error source).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

#: In the render's private workspace; `FFREPORT` wants `:` and `\` escaped, this has neither.
REPORT_FILE = ".ffmpeg-report.log"
PEAK_POLL_S = 0.2  #: how often a running FFmpeg's VmHWM is read, once it has run a while
#: The first readings come sooner: a short pass on a loaded machine (0.2 s) could end between
#: a reading taken before its exec and the next one, and report no figure at all.
_FIRST_POLLS_S = (0.01, 0.02, 0.05, 0.1)
_OWN_CMDLINE = Path("/proc/self/cmdline").read_bytes()  #: what a child has until its exec
#: The bench lines are among the last FFmpeg writes; x264's summary follows them.
_TAIL_BYTES = 64 * 1024
_TIMES = re.compile(r"bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s")
_MAXRSS = re.compile(r"bench: maxrss=(\d+)kB")
#: FFREPORT's level is an av_log level number: 32 is AV_LOG_INFO.
REPORT_ENV = {"FFREPORT": f"file={REPORT_FILE}:level=32"}
#: The global option that makes FFmpeg print the bench lines (before any input).
BENCHMARK_ARGS = ("-benchmark",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    cpu_s: float  #: user + system CPU seconds of the FFmpeg process (all its threads)
    wall_s: float  #: FFmpeg's own wall clock (rtime)
    memory_peak_mb: float | None  #: its peak resident set size (maxrss), MiB


def parse(text: str) -> Usage | None:
    """The last bench lines of a report; None if FFmpeg did not get as far as printing them."""
    times = _TIMES.findall(text)
    if not times:
        return None
    utime, stime, rtime = (float(v) for v in times[-1])
    rss = _MAXRSS.findall(text)
    return Usage(
        cpu_s=round(utime + stime, 3),
        wall_s=float(rtime),
        memory_peak_mb=round(int(rss[-1]) / 1024, 1) if rss else None,
    )


def resident_peak_mb(pid: int) -> float | None:
    """A running process's peak resident set (VmHWM), MiB; None once it is gone, and None
    while it is still our fork that has not yet exec'd (its VmHWM is then the service's own:
    a loaded machine delays the exec past the first reading, which reported 368 MiB for a
    197 MiB render).

    Not the -benchmark maxrss: Linux carries a process's maxrss across exec, and a child
    forked from the service starts with the service's resident set (a 300 MiB test process
    made a 75 MiB render report 320). VmHWM belongs to the FFmpeg image alone."""
    with contextlib.suppress(OSError, ValueError):
        if Path(f"/proc/{pid}/cmdline").read_bytes() == _OWN_CMDLINE:
            return None  # not exec'd yet: a fork has our memory, our command line included
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def own_resident_mb() -> float:
    """This process's resident set now (VmRSS), MiB: what a child forked now starts with."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def watch_peak(proc: asyncio.subprocess.Process, peak: list[float]) -> None:
    """Keep `peak[0]` at the running process's VmHWM, read soon after the start and then every
    PEAK_POLL_S until it exits (a run without -progress reports nothing else to read it on)."""
    waits = iter(_FIRST_POLLS_S)
    while proc.returncode is None:
        peak[0] = max(peak[0], resident_peak_mb(proc.pid) or 0.0)
        await asyncio.sleep(next(waits, PEAK_POLL_S))


def collect(cwd: Path, name: str = REPORT_FILE) -> Usage | None:
    """Read and remove the report FFmpeg left in `cwd` (None when there is none)."""
    path = cwd / name
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(size - _TAIL_BYTES, 0))
            text = f.read().decode("utf-8", "replace")
    except OSError:  # a fake FFmpeg, or one that died before opening it
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    return parse(text)
