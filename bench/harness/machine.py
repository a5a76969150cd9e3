"""What the benchmark ran on, and how busy the machine was: every section's first lines."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sample_specs.media import FFMPEG

#: Seconds between two samples of the 1-min load average while a measure runs.
LOAD_EVERY = 5.0


def ffmpeg_version() -> str:
    done = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines()[0] if done.stdout else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1 << 20)
    except OSError:
        pass
    return float("nan")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def uptime() -> str:
    """`uptime`'s line (who else is busy), or the load averages when it is missing."""
    try:
        done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except OSError:
        pass
    return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


@dataclass(frozen=True)
class Machine:
    cores: int
    cpu: str
    ram_gib: float
    ffmpeg: str
    python: str
    system: str
    date: str

    def lines(self) -> list[str]:
        return [
            f"- machine: {self.cores} cores ({self.cpu}), {self.ram_gib:.1f} GiB RAM, "
            f"{self.system}",
            f"- {self.ffmpeg}",
            f"- Python {self.python}; run {self.date}",
        ]


def describe() -> Machine:
    ffmpeg = ffmpeg_version()
    ffmpeg = ffmpeg.split(" Copyright")[0]
    return Machine(
        cores=_cores(),
        cpu=_cpu_model(),
        ram_gib=_ram_gib(),
        ffmpeg=ffmpeg,
        python=platform.python_version(),
        system=platform.platform(terse=True),
        date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    )


@dataclass
class LoadSampler:
    """The 1-min load average every LOAD_EVERY s, in a thread, while a measure runs: how
    noisy the machine was meanwhile (`with LoadSampler() as loads:`)."""

    samples: list[float] = field(default_factory=list)
    before: str = ""
    after: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> LoadSampler:
        self.before = uptime()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.after = uptime()

    def _run(self) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(LOAD_EVERY):
                return

    def lines(self) -> list[str]:
        return [f"- load before: `{self.before}`", f"- load after: `{self.after}`",
                f"- {self.summary()}"]  # fmt: skip

    def summary(self) -> str:
        if not self.samples:
            return "load during the run: not sampled"
        loads = self.samples
        low, mid, high = min(loads), statistics.median(loads), max(loads)
        return (
            f"1-min load average during the run ({len(loads)} samples): min {low:.1f}, median "
            f"{mid:.1f}, max {high:.1f} (the benchmark alone adds about 2-4: FFmpeg's threads)"
        )
