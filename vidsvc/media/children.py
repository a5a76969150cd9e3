"""FFmpeg children's hygiene: resource limits, the instance mark, and the orphan sweep.

Limits (docs/reliability.md S6) are computed here, in the parent, so the code that runs between
fork and exec (process.py) only calls setrlimit. Every child carries MARK_ENV
(`<owner>:<pid of its vidsvc>`) in its environment, inherited by grandchildren; at start-up,
`kill_orphans` kills processes marked with our owner whose vidsvc is dead (C10). A mark whose
vidsvc still lives belongs to a live instance, ours or a peer sharing the owner name, and is
never touched.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import resource
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed

log = logging.getLogger(__name__)
MARK_ENV = "VIDSVC_INSTANCE"
#: RLIMIT_AS when FFMPEG_MAX_MEMORY_MB=0. Measured VmPeak of a 1080p30 x264 render (preset
#: medium, drawtext, aac) on 2 cores: 1.1 GiB with x264's own thread count, 1.8 GiB with
#: -threads 16, 2.6 GiB with 32 (about 54 MiB per thread, mostly reserved stacks and malloc
#: arenas); a 2160p render (ENABLE_4K_OUTPUT) 2.4 GiB on 2 cores. x264 uses 1.5 threads per
#: core, so base + per-core leaves about 3x room at any core count: only a runaway reaches it.
DEFAULT_MEMORY_BASE_MB = 6144
DEFAULT_MEMORY_PER_CORE_MB = 512
#: The frame JOB_TIMEOUT and the derived limits are set for. A render of a larger frame gets
#: them scaled by `pixel_factor` (never below): 1440p 1.78x, 2160p 4x.
BASE_PIXELS = 1920 * 1080
#: RLIMIT_AS added per BASE_PIXELS of output frame past the first: frames, x264's lookahead
#: and reference pictures grow with the frame (2160p peaked 1.3 GiB over 1080p, ~450 MiB per
#: step; twice that keeps the limit a backstop).
DEFAULT_MEMORY_PER_FRAME_MB = 1024
#: Seconds between SIGXCPU (soft RLIMIT_CPU) and SIGKILL (hard), for FFmpeg to die by itself.
CPU_HARD_MARGIN_S = 5
_MARK: str | None = None


@dataclass(frozen=True, slots=True)
class ChildLimits:
    """Soft and hard values per resource; setrlimit takes them as they are."""

    memory: tuple[int, int]
    cpu: tuple[int, int]
    fsize: tuple[int, int]
    #: Niceness added (FFMPEG_NICE): on a busy host the renders yield the CPU to the process
    #: answering the API, which needs a few ms at a time; their throughput is unchanged.
    nice: int = 0

    def apply(self) -> None:  # in the child, between fork and exec: setrlimit and nice only
        resource.setrlimit(resource.RLIMIT_AS, self.memory)
        resource.setrlimit(resource.RLIMIT_CPU, self.cpu)
        resource.setrlimit(resource.RLIMIT_FSIZE, self.fsize)
        if self.nice:
            os.nice(self.nice)


def cores() -> int:
    """CPUs this process may run on (a container's cpuset, not the host's count): what x264
    sizes itself by, and what the limits and the threads policy divide."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pixel_factor(pixels: int) -> float:
    """How many 1080p frames' worth `pixels` is, at least 1 (smaller frames keep the limits)."""
    return max(1.0, pixels / BASE_PIXELS)


def job_timeout(settings: Settings, pixels: int = BASE_PIXELS) -> float:
    """JOB_TIMEOUT for a render whose output frame has `pixels`: encoding time grows with them."""
    return settings.job_timeout * pixel_factor(pixels)


def memory_mb(settings: Settings, pixels: int = BASE_PIXELS) -> int:
    if settings.ffmpeg_max_memory_mb:  # set by the operator: as it is, whatever the frame
        return settings.ffmpeg_max_memory_mb
    frames = DEFAULT_MEMORY_PER_FRAME_MB * (pixel_factor(pixels) - 1)
    return DEFAULT_MEMORY_BASE_MB + DEFAULT_MEMORY_PER_CORE_MB * cores() + math.ceil(frames)


def cpu_seconds(settings: Settings, pixels: int = BASE_PIXELS) -> int:
    if settings.ffmpeg_max_cpu_seconds:
        return settings.ffmpeg_max_cpu_seconds
    # Every core busy for the whole wall-clock allowance: only a child that outlives
    # JOB_TIMEOUT's kill could reach it, so it is a backstop, never the first cut.
    return math.ceil(job_timeout(settings, pixels) * cores())


def _capped(kind: int, soft: int, hard: int) -> tuple[int, int]:
    """An unprivileged child cannot raise its hard limit: stay under the one we inherited."""
    _, ceiling = resource.getrlimit(kind)
    if ceiling == resource.RLIM_INFINITY:
        return soft, hard
    return min(soft, ceiling), min(hard, ceiling)


def child_limits(settings: Settings, pixels: int = BASE_PIXELS) -> ChildLimits:
    """The limits of a child that renders frames of `pixels` (probes: the 1080p default)."""
    mem = memory_mb(settings, pixels) << 20
    cpu = cpu_seconds(settings, pixels)
    size = settings.max_output_bytes
    return ChildLimits(
        memory=_capped(resource.RLIMIT_AS, mem, mem),
        cpu=_capped(resource.RLIMIT_CPU, cpu, cpu + CPU_HARD_MARGIN_S),
        fsize=_capped(resource.RLIMIT_FSIZE, size, size),
        nice=settings.ffmpeg_nice,
    )


_OUT_OF_MEMORY = ("Cannot allocate memory", "MemoryError", "out of memory", "std::bad_alloc")
#: FFmpeg traps SIGXCPU like SIGTERM: it stops with 255 ("Exiting normally, received signal
#: 24") or, as SIGXCPU repeats every CPU second, hard-exits with 123 after the fourth.
_CPU_SIGNS = (f"received signal {int(signal.SIGXCPU)}.", "Received > 3 system signals")


def name_limit(
    failure: ProcessingFailed,
    returncode: int,
    stderr_tail: str,
    settings: Settings,
    pixels: int = BASE_PIXELS,
) -> ProcessingFailed:
    """`failure`, restated to name the limit the child ran into, if it ran into one."""
    tail = stderr_tail[-4096:]
    cpu_sign = returncode > 0 and any(sign in tail for sign in _CPU_SIGNS)
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) or cpu_sign:
        # SIGKILL: the hard RLIMIT_CPU, or the kernel's OOM killer; both are limits here
        # (a kill of ours, on timeout or cancel, never reaches this: it raises on its own).
        limit, what = (
            "cpu",
            f"CPU time limit (FFMPEG_MAX_CPU_SECONDS={cpu_seconds(settings, pixels)})",
        )
        if returncode == -signal.SIGKILL:
            limit, what = "cpu_or_memory", f"{what} or memory limit"
        message = f"ffmpeg was stopped by its {what}"
    elif returncode == -signal.SIGXFSZ:
        limit = "output_size"
        message = f"the output grew past MAX_OUTPUT_BYTES ({settings.max_output_bytes} bytes)"
    elif returncode != 0 and any(sign in tail for sign in _OUT_OF_MEMORY):
        limit = "memory"
        message = f"ffmpeg ran out of memory (FFMPEG_MAX_MEMORY_MB={memory_mb(settings, pixels)})"
    else:
        return failure
    return ProcessingFailed(message, details={**failure.details, "limit": limit})


# -- the instance mark and the orphan sweep ----------------------------------------------------


def mark_as(owner: str) -> None:
    """Mark the children this process starts from now on as `owner`'s (Runner.open)."""
    global _MARK
    _MARK = f"{owner}:{os.getpid()}"


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """The environment for a child: ours, the mark and `extra`; None (inherit ours) when
    there is nothing to add."""
    added = {**({MARK_ENV: _MARK} if _MARK is not None else {}), **(extra or {})}
    return {**os.environ, **added} if added else None


def _mark_of(pid: int) -> str | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return None
    prefix = MARK_ENV.encode() + b"="
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode("utf-8", "replace")
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphans(owner: str) -> list[int]:
    """Processes marked with `owner` whose vidsvc is gone (never ours, never a live peer's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        mark = _mark_of(int(entry.name))
        if mark is None:
            continue
        name, _, parent = mark.rpartition(":")
        if name != owner or not parent.isdigit() or int(parent) == os.getpid():
            continue
        if not _alive(int(parent)):
            found.append(int(entry.name))
    return found


def kill_orphans(owner: str) -> list[int]:
    """SIGKILL what a previous life of this instance left running; the pids killed."""
    killed = []
    for pid in orphans(owner):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    if killed:
        log.warning("killed orphan ffmpeg processes", extra={"pids": killed})
    return killed
