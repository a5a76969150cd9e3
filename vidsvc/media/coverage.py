"""Which characters no installed font can draw: reported in the job's metadata, never a box.

libass falls back per character through fontconfig, so a character is drawable when any font
fontconfig knows has it. One `fc-list` call gives every font's character set (about 0.5 MB
of hex ranges, 20 ms); it is merged into sorted ranges once per process and searched with
bisect. Whitespace, controls, format characters (ZWJ, ZWNJ, joiners) and variation selectors
draw nothing by themselves and are not checked.

`font_set` fingerprints the same fonts for the render cache: libass's per-character
fallback may draw with any of them, so installing, removing or upgrading one changes the key.

Imports the leaves and vidsvc.media.process (the one place that runs processes).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from vidsvc.media import cpu
from vidsvc.media.process import run_capture

FC_LIST_TIMEOUT = 10.0
#: At most this many missing characters are listed per job (the count is always whole).
MAX_LISTED = 50
T = TypeVar("T")
#: What one fc-list call per line format gave, parsed (once per process).
_listings: dict[str, Any] = {}


def parse_charsets(text: str) -> tuple[list[int], list[int]]:
    """fc-list's `%{charset}` lines (`20-7e a0 …`, hex) merged into sorted, disjoint ranges."""
    spans: list[tuple[int, int]] = []
    for token in text.split():
        first, _, last = token.partition("-")
        try:
            spans.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in spans:
        if ends and lo <= ends[-1] + 1:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


async def _fc_list(line_format: str, parse: Callable[[str], T]) -> T | None:
    """`parse` of fc-list's lines in `line_format`, once per process (None: fontconfig failed;
    a failure is asked again next time)."""
    if line_format not in _listings:
        try:
            got = await run_capture(["fc-list", "--format", line_format], timeout=FC_LIST_TIMEOUT)
        except (OSError, TimeoutError):
            return None
        if got.returncode != 0:
            return None
        # 0.3 s for the charsets of every installed font: on the threads, not the loop
        _listings[line_format] = await cpu.run(parse, got.stdout.decode("utf-8", "replace"))
    parsed: T = _listings[line_format]
    return parsed


def _checked(ch: str) -> bool:
    code = ord(ch)
    if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
        return False
    return not (0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)


def missing(texts: Iterable[str], ranges: tuple[list[int], list[int]]) -> list[str]:
    """The distinct characters of `texts` outside `ranges`, in first-seen order."""
    starts, ends = ranges
    out: list[str] = []
    # Distinct characters first, text by text: a 5 MB caption file has a few hundred of them,
    # and one C call over all of it would hold the GIL (so the event loop) for 0.1 s.
    seen: dict[str, None] = {}
    for text in texts:
        seen.update(dict.fromkeys(text))
    for ch in seen:
        if not _checked(ch):
            continue
        i = bisect.bisect_right(starts, ord(ch)) - 1
        if i < 0 or ord(ch) > ends[i]:
            out.append(ch)
    return out


async def missing_glyphs(texts: Iterable[str]) -> list[dict[str, str]] | None:
    """Metadata for the characters no installed font has (None: coverage is unknown)."""
    ranges = await _fc_list("%{charset}\\n", parse_charsets)
    if ranges is None:
        return None
    return [
        {"char": ch, "codepoint": f"U+{ord(ch):04X}", "name": unicodedata.name(ch, "")}
        for ch in (await cpu.run(missing, list(texts), ranges))[:MAX_LISTED]
    ]


def _fingerprint(listing: str) -> str:
    """SHA-256 over each font file's path, version, size and mtime, in sorted order."""
    lines = []
    for line in sorted(set(listing.splitlines())):
        path, _, version = line.partition("\t")
        try:
            st = os.stat(path)
        except OSError:
            continue
        lines.append(f"{path}\t{version}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def font_set() -> str | None:
    """A fingerprint of every font fontconfig knows, once per process (None: unknown; a
    restart sees fonts installed since)."""
    return await _fc_list("%{file}\\t%{fontversion}\\n", _fingerprint)
