"""Parse FFmpeg's `-progress pipe:1` output into FFmpegProgress values, one line at a time.

FFmpeg writes blocks of `key=value` lines, each closed by `progress=continue` or
`progress=end`. The parser is pure (no I/O, no asyncio) so it can be table-tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLOCK = re.compile(r"^(-?)(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class FFmpegProgress:
    """One `-progress` block: how far the output is, in milliseconds of output time."""

    out_time_ms: int
    speed: float | None  #: realtime factor (1.0 is realtime); None while FFmpeg says N/A
    frame: int | None  #: frames written so far; None for audio-only outputs
    done: bool  #: True for the last block (`progress=end`)
    fps: float | None = None  #: frames encoded per wall second
    bitrate_kbps: float | None = None  #: FFmpeg's running average ("N/A" before any output)
    total_size: int | None = None  #: bytes written so far
    dup_frames: int | None = None  #: frames duplicated to keep the output frame rate
    drop_frames: int | None = None  #: frames dropped to keep it

    def stats(self) -> dict[str, float | int | None]:
        """FFmpeg's own figures, as job_metrics.ffmpeg_stats keeps them (from the last block)."""
        return {
            "frames": self.frame,
            "fps": self.fps,
            "speed": self.speed,
            "dup_frames": self.dup_frames,
            "drop_frames": self.drop_frames,
            "total_size": self.total_size,
            "bitrate_kbps": self.bitrate_kbps,
            "out_time_s": self.out_time_ms / 1000,
        }


def eta_seconds(progress: FFmpegProgress, total_ms: int) -> float | None:
    """Wall seconds until the output reaches `total_ms`, at FFmpeg's current speed.

    None while the speed is unknown or zero (the first blocks say N/A): no ETA beats a wild one.
    """
    if not progress.speed or progress.speed <= 0:
        return None
    left_s = max(total_ms - progress.out_time_ms, 0) / 1000
    return round(left_s / progress.speed, 1)


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:  # "N/A", or garbage
        return None


def _clock_us(raw: str | None) -> int | None:
    """`HH:MM:SS.micro` to microseconds (FFmpeg prints negative clocks before the first packet)."""
    match = _CLOCK.match(raw or "")
    if match is None:
        return None
    sign, hours, minutes, seconds, frac = match.groups()
    micro = int((frac or "0").ljust(6, "0"))
    total = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1_000_000 + micro
    return -total if sign else total


def _speed(raw: str | None, unit: str = "x") -> float | None:
    """A non-negative finite number with an optional unit suffix ("1.5x", "812.3kbits/s")."""
    if raw is None:
        return None
    try:
        value = float(raw.strip().removesuffix(unit))
    except ValueError:
        return None
    return value if 0 <= value < float("inf") else None  # NaN and inf are not figures


class ProgressParser:
    """Feed lines with `feed`; a FFmpegProgress comes back each time a block is complete."""

    def __init__(self) -> None:
        self._block: dict[str, str] = {}
        self._last_ms = 0

    def feed(self, line: str) -> FFmpegProgress | None:
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None  # blank or stray lines are not part of the protocol
        key, value = key.strip(), value.strip()
        if key != "progress":
            self._block[key] = value
            return None
        block, self._block = self._block, {}
        return self._finish(block, done=value == "end")

    def _finish(self, block: dict[str, str], *, done: bool) -> FFmpegProgress:
        # out_time_ms is microseconds too (a long-standing FFmpeg misnomer).
        micros = _int(block.get("out_time_us"))
        if micros is None:
            micros = _int(block.get("out_time_ms"))
        if micros is None:
            micros = _clock_us(block.get("out_time"))
        if micros is not None and micros >= 0:
            # Progress never goes backwards, even if a block reports an earlier time.
            self._last_ms = max(self._last_ms, micros // 1000)
        return FFmpegProgress(
            out_time_ms=self._last_ms,
            speed=_speed(block.get("speed")),
            frame=_int(block.get("frame")),
            done=done,
            fps=_speed(block.get("fps"), ""),
            bitrate_kbps=_speed(block.get("bitrate"), "kbits/s"),
            total_size=_int(block.get("total_size")),
            dup_frames=_int(block.get("dup_frames")),
            drop_frames=_int(block.get("drop_frames")),
        )
