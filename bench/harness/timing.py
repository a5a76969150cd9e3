"""How contenders are timed: rotating order, wall clock and children's CPU time, and FFmpeg's
own `-benchmark` (its getrusage at exit), which other load on the machine does not blur."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bench import seams

#: Contender names; the report looks contenders up by these.
RENDER = "vidsvc render"
BARE = "vidsvc argv, bare ffmpeg"
RAW = "raw ffmpeg"
NAME_WIDTH = len(BARE)
T = TypeVar("T")


@dataclass
class Contender:
    name: str
    argv: list[str]
    output: Path
    cwd: Path
    times: list[float] = field(default_factory=list)  #: wall seconds per run
    cpu: list[float] = field(default_factory=list)  #: user+sys seconds per run

    @property
    def slug(self) -> str:
        """The name as a file name ("vidsvc argv, bare ffmpeg" -> vidsvc_argv_bare_ffmpeg)."""
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


class RenderFailed(RuntimeError):
    pass


def children_cpu() -> float:
    """User+sys seconds of every waited-for descendant so far.

    vidsvc's own FFmpeg and ffprobe children are included once vidsvc is
    waited for, so every contender is measured the same way. CPU time barely
    moves when other jobs share the machine, unlike wall time.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_once(contender: Contender, log_dir: Path) -> tuple[float, float]:
    """Run one render, logging to bench/out/<slug>.log; (wall, cpu) seconds.

    Raises RenderFailed when the command fails or writes no output.
    """
    contender.output.unlink(missing_ok=True)
    log_path = log_dir / f"{contender.slug}.log"
    with log_path.open("w") as log:
        cpu_before = children_cpu()
        started = time.perf_counter()
        done = subprocess.run(
            contender.argv,
            cwd=contender.cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
        elapsed = time.perf_counter() - started
        cpu = children_cpu() - cpu_before
    if done.returncode != 0 or not contender.output.is_file():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
        raise RenderFailed(
            f"{contender.name} failed (exit {done.returncode}); log {log_path}:\n{tail}"
        )
    return elapsed, cpu


def timed(contender: Contender, log_dir: Path) -> tuple[float, float]:
    """time_once, with the result kept on the contender."""
    wall, cpu = time_once(contender, log_dir)
    contender.times.append(wall)
    contender.cpu.append(cpu)
    return wall, cpu


def spread(walls: list[float]) -> str:
    """The same raw command's walls over the run: the noise every ratio is read against."""
    if len(walls) < 2:
        return "raw FFmpeg ran once: no spread"
    low, high = min(walls), max(walls)
    return (
        f"noise: the raw command took {low:.2f}-{high:.2f} s over {len(walls)} runs "
        f"(max/min {high / low:.2f}; on a quiet machine runs agree within a few %)"
    )


def round_order(contenders: list[T], round_no: int) -> list[T]:
    """Round k starts k places further along, so page cache, CPU frequency and thermal
    drift do not favour one contender: over len(contenders) rounds each one runs once in
    every position (with two contenders this is plain alternation)."""
    k = round_no % len(contenders)
    return contenders[k:] + contenders[:k]


def run_rounds(contenders: list[Contender], runs: int, log_dir: Path) -> None:
    """`runs` rounds of every contender, each round in round_order."""
    for round_no in range(runs):
        for contender in round_order(contenders, round_no):
            elapsed, cpu = timed(contender, log_dir)
            print(
                f"  run {round_no + 1}/{runs}  {contender.name:<{NAME_WIDTH}} {elapsed:7.2f} s"
                f"  (cpu {cpu:6.2f} s, load {os.getloadavg()[0]:.1f})"
            )


class PassFailed(RuntimeError):
    pass


def benchmarked(name: str, argv: list[str], cwd: Path, log_dir: Path) -> seams.Usage:
    """Run one FFmpeg command with `-benchmark`, logging to `log_dir`: its own CPU, wall and
    peak memory. Raises PassFailed when it fails or reports no usage."""
    log = log_dir / f"pass-{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}.log"
    code, usage = seams.self_measured(argv, cwd, log)
    if code != 0 or usage is None or usage.memory_peak_mb is None:
        raise PassFailed(f"{name} failed (exit {code}); see {log}")
    return usage
