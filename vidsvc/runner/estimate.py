"""Estimator: seconds a composition will take, from the throughput this instance measured.

Throughput is output seconds rendered per wall second, smoothed over finished jobs (EWMA), with
a conservative default before the first one. The output length is read from the request where
it is given (trims or placements) and guessed per clip where only probing would tell.
A fitted model per resolution is the performance issue's work; this is the honest first cut.

Imports the leaves only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidsvc.jobs import Job, JobState

DEFAULT_SPEED = 1.5  #: output s per wall s at 720p/medium on 2 cores (bench: ~3x; halved)
GUESS_CLIP_SECONDS = 5.0
SMOOTHING = 0.3


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _clip_seconds(clip: Mapping[str, Any]) -> float:
    """The trim's length, else the placement's, else a guess (only a probe would tell)."""
    pairs = ((_number(clip.get("trim_start")) or 0.0, _number(clip.get("trim_end"))),
             (_number(clip.get("start_time")), _number(clip.get("end_time"))))  # fmt: skip
    for start, end in pairs:
        if start is not None and end is not None and end > start:
            return end - start
    return GUESS_CLIP_SECONDS


def _seconds(payload: Mapping[str, Any]) -> float:
    clips = payload.get("clips") or []
    return sum(_clip_seconds(c) for c in clips if isinstance(c, Mapping))


class Estimator:
    def __init__(self) -> None:
        self.speed = DEFAULT_SPEED
        self.samples = 0

    def estimate(self, payload: Mapping[str, Any], *, busy: bool) -> float:
        """Seconds to render `payload`; doubled when every worker slot is taken."""
        seconds = _seconds(payload) / self.speed
        return round(max(1.0, seconds * (2 if busy else 1)), 1)

    def observe(self, job: Job) -> None:
        if job.state is not JobState.COMPLETED:
            return
        output = job.metadata.get("output") or {}
        wall = job.metadata.get("render_seconds")
        length = output.get("duration") if isinstance(output, Mapping) else None
        if not (isinstance(wall, int | float) and isinstance(length, int | float) and wall > 0):
            return
        speed = length / wall
        self.speed = (
            speed if self.samples == 0 else (1 - SMOOTHING) * self.speed + SMOOTHING * speed
        )
        self.samples += 1
