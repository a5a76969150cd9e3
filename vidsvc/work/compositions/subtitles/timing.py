"""Timestamps and timing lines as real exporters write them, in integer milliseconds.

WebVTT writes `hh:mm:ss.ttt` or `mm:ss.ttt`; SRT `hh:mm:ss,ttt`. Exporters also write unpadded
fields (`0:0:3.540`, a meeting transcript's `0:1:5.2`): read as players read them, a fraction of
one or two digits being tenths or hundredths. Minutes and seconds stay below 60, and a field
separated by `:` where the fraction belongs (`00:00:11:890`) is no timestamp: its cue is
skipped, not guessed.
"""

from __future__ import annotations

import re

_TIMESTAMP = re.compile(r"(?:(\d{1,9}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,9}))?")
#: `start --> end` and whatever follows (WebVTT cue settings, SRT coordinates): not anchored
#: on the right, so the settings are left to the caller.
_TIMING = re.compile(r"\s*([0-9:.,]+)[ \t]*-->[ \t]*([0-9:.,]+)(.*)")


def timestamp_ms(text: str) -> int | None:
    """The timestamp's milliseconds, or None if it is not one."""
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        return None
    hours, minutes, seconds, fraction = m.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        return None
    ms = int((fraction or "0")[:3].ljust(3, "0"))
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + ms


def timing(line: str) -> tuple[int, int] | str:
    """(start, end) of a timing line, or why it is not a valid one."""
    m = _TIMING.match(line)
    if m is None:
        return "a malformed timing line"
    first, second, rest = m.groups()
    if rest and not rest[0].isspace():
        return f"a malformed timing line ({line.strip()[:40]!r})"
    start, end = timestamp_ms(first), timestamp_ms(second)
    if start is None:
        return f"a malformed start time {first[:20]!r}"
    if end is None:
        return f"a malformed end time {second[:20]!r}"
    if end <= start:
        return "it ends before it starts"
    return start, end
