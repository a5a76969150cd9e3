"""Parse FFmpeg's `-progress pipe:1` output into Progress values, one line at a time.

FFmpeg writes blocks of `key=value` lines, each closed by `progress=continue` or
`progress=end`. The parser is pure (no I/O, no asyncio) so it can be table-tested.

Imports nothing from vidsvc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLOCK = re.compile(r"^(-?)(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """One `-progress` block: how far the output is, in milliseconds of output time."""

    out_time_ms: int
    speed: float | None  #: realtime factor (1.0 is realtime); None while FFmpeg says N/A
    frame: int | None  #: frames written so far; None for audio-only outputs
    done: bool  #: True for the last block (`progress=end`)


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


def _speed(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip().rstrip("x"))
    except ValueError:
        return None
    return value if value >= 0 and value == value else None  # NaN is not a speed


class ProgressParser:
    """Feed lines with `feed`; a Progress comes back each time a block is complete."""

    def __init__(self) -> None:
        self._block: dict[str, str] = {}
        self._last_ms = 0

    def feed(self, line: str) -> Progress | None:
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None  # blank or stray lines are not part of the protocol
        key, value = key.strip(), value.strip()
        if key != "progress":
            self._block[key] = value
            return None
        block, self._block = self._block, {}
        return self._finish(block, done=value == "end")

    def _finish(self, block: dict[str, str], *, done: bool) -> Progress:
        # out_time_ms is microseconds too (a long-standing FFmpeg misnomer).
        micros = _int(block.get("out_time_us"))
        if micros is None:
            micros = _int(block.get("out_time_ms"))
        if micros is None:
            micros = _clock_us(block.get("out_time"))
        if micros is not None and micros >= 0:
            # Progress never goes backwards, even if a block reports an earlier time.
            self._last_ms = max(self._last_ms, micros // 1000)
        return Progress(
            out_time_ms=self._last_ms,
            speed=_speed(block.get("speed")),
            frame=_int(block.get("frame")),
            done=done,
        )
