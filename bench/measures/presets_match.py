"""The pure half of the presets measure: read FFmpeg's ssim/psnr summaries, walk integer CRFs
toward a target SSIM, pick the nearest, and lay out the table.

SSIM is compared in decibels (-10·log10(1 - SSIM), what the ssim filter prints beside it): near
1.0 the plain value hides differences that the dB scale spreads out evenly per CRF step.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: "[Parsed_ssim_2 @ 0x…] SSIM Y:0.990 (20.2) U:… V:… All:0.991545 (20.728671)"
_SSIM = re.compile(r"\] SSIM Y:.* All:([\d.]+) \(([\d.]+|inf)\)")
#: "[Parsed_psnr_3 @ 0x…] PSNR y:43.1 u:… v:… average:43.962 min:40.1 max:48.3"
_PSNR = re.compile(r"\] PSNR y:.* average:([\d.]+|inf) ")
#: About the SSIM-dB change per CRF step of x264 near CRF 21 (measured 0.6-0.7 on the
#: reference); only the first jump uses it, then the walk brackets in steps of 1.
DB_PER_CRF = 0.6
CRF_RANGE = (0, 51)


@dataclass(frozen=True)
class Score:
    ssim: float
    ssim_db: float
    psnr: float


@dataclass(frozen=True)
class Point:
    """One encode: a preset at a CRF, scored against the lossless render."""

    preset: str
    crf: int
    score: Score
    cpu_s: float  #: x264's user+sys CPU seconds (median of cpu_runs)
    bytes: int
    cpu_runs: tuple[float, ...] = ()  #: every encode's measure, when repeated


def parse_scores(stderr: str) -> Score:
    """The overall SSIM (value and dB) and average PSNR from an ssim+psnr run's log."""
    ssim, psnr = _SSIM.findall(stderr), _PSNR.findall(stderr)
    if not ssim or not psnr:
        raise ValueError("no SSIM/PSNR summary in FFmpeg's output")
    value, db = ssim[-1]
    return Score(ssim=float(value), ssim_db=float(db), psnr=float(psnr[-1]))


def next_crf(points: dict[int, float], target_db: float, start: int = 21) -> int | None:
    """The next integer CRF to measure (`points`: CRF → SSIM dB), or None once the target is
    met exactly or bracketed by neighbouring CRFs. Higher CRF means lower SSIM."""
    if not points:
        return start
    if any(db == target_db for db in points.values()):
        return None
    better = [crf for crf, db in points.items() if db > target_db]
    worse = [crf for crf, db in points.items() if db < target_db]
    if better and worse:
        low, high = max(better), min(worse)
        return None if high - low <= 1 else (low + high) // 2
    edge = max(better) if better else min(worse)
    step = round((points[edge] - target_db) / DB_PER_CRF) or (1 if better else -1)
    crf = min(max(edge + step, CRF_RANGE[0]), CRF_RANGE[1])
    return None if crf in points else crf


def nearest(points: list[Point], target_db: float) -> Point:
    """The point whose SSIM is nearest the target (a tie goes to the smaller file)."""
    return min(points, key=lambda p: (abs(p.score.ssim_db - target_db), p.bytes))


def size_at_target(points: list[Point], target_db: float) -> float | None:
    """The file size at exactly the target SSIM: log-linear between the two CRFs that bracket
    it (integer CRFs overshoot or undershoot the target by up to half a step). None when the
    points do not bracket it."""
    better = [p for p in points if p.score.ssim_db >= target_db]
    worse = [p for p in points if p.score.ssim_db <= target_db]
    if not better or not worse:
        return None
    hi = min(better, key=lambda p: p.score.ssim_db)
    lo = max(worse, key=lambda p: p.score.ssim_db)
    if hi.score.ssim_db == lo.score.ssim_db:
        return float(hi.bytes)
    share = (hi.score.ssim_db - target_db) / (hi.score.ssim_db - lo.score.ssim_db)
    return float(math.exp(math.log(hi.bytes) + share * (math.log(lo.bytes) - math.log(hi.bytes))))


def table(
    matched: list[Point], reference: Point, at_target: dict[str, float | None] | None = None
) -> list[str]:
    """A Markdown table of the matched points against `reference` (medium, CRF 21)."""
    ref = f"{reference.preset}/{reference.crf}"
    lines = [
        f"| preset | CRF | SSIM (dB) | PSNR dB | x264 CPU s (range) | CPU vs {ref} | size"
        f" | size vs {ref} | at exactly its SSIM |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in matched:
        runs = f" ({min(p.cpu_runs):.1f}–{max(p.cpu_runs):.1f})" if len(p.cpu_runs) > 1 else ""
        exact = (at_target or {}).get(p.preset)
        lines.append(
            f"| {p.preset} | {p.crf} | {p.score.ssim:.5f} ({p.score.ssim_db:.2f}) "
            f"| {p.score.psnr:.2f} | {p.cpu_s:.1f}{runs} | {p.cpu_s / reference.cpu_s:.2f}× "
            f"| {p.bytes / 1024:.0f} KiB | {_change(p.bytes, reference.bytes)} "
            f"| {_change(exact, reference.bytes) if exact else '–'} |"
        )
    return lines


def _change(value: float, reference: float) -> str:
    percent = round((value / reference - 1) * 100)
    return f"{percent:+d}%" if percent else "±0%"
