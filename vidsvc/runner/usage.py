"""What a job's FFmpeg runs cost, as every kind of job records it in its outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vidsvc.media.ffmpeg import FFmpegRun


def number(value: Any) -> float | None:
    """A JSON number as a float (bool is not one); None for anything else or a missing key."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    render_seconds: float = 0.0  #: wall seconds of the FFmpeg runs (0: a render-cache hit)
    cpu_seconds: float | None = None  #: None unless every run reported it
    memory_peak_mb: float | None = None  #: the largest run's peak RSS
    output_seconds: float | None = None  #: output time the runs wrote, if every run reported it

    @classmethod
    def of(cls, runs: Sequence[FFmpegRun]) -> Usage:
        """Summed over the job's runs; a partial sum would pass for the whole, so None."""
        cpu = [r.cpu_s for r in runs]
        peaks = [r.memory_peak_mb for r in runs if r.memory_peak_mb is not None]
        output = [r.last.out_time_ms / 1000 for r in runs if r.last is not None]
        return cls(
            render_seconds=round(sum(r.elapsed_s for r in runs), 3),
            cpu_seconds=round(sum(c for c in cpu if c is not None), 3)
            if runs and None not in cpu
            else None,
            memory_peak_mb=max(peaks) if peaks else None,
            output_seconds=round(sum(output), 3) if len(output) == len(runs) and runs else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "render_seconds": self.render_seconds,
            "cpu_seconds": self.cpu_seconds,
            "memory_peak_mb": self.memory_peak_mb,
            "output_seconds": self.output_seconds,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Usage:
        """From an outcome's metadata (older rows may lack any of the keys)."""
        return cls(
            render_seconds=number(d.get("render_seconds")) or 0.0,
            cpu_seconds=number(d.get("cpu_seconds")),
            memory_peak_mb=number(d.get("memory_peak_mb")),
            output_seconds=number(d.get("output_seconds")),
        )
