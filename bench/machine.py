"""What the benchmark ran on, and how busy the machine was: the results file's header."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.report import ffmpeg_version


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
