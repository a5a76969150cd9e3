"""Font family names to font files, through fontconfig's fc-match; never fails.

docs/contract.md §3: a missing font falls back to a default one, never to a failure. fc-match
itself already answers its best match for unknown names; the fallback here covers a
missing or broken fc-match and answers that name no existing file.
"""

from __future__ import annotations

import os

from vidsvc.config import Settings
from vidsvc.media.process import run_capture

DEFAULT_FONT_FILE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FC_MATCH_TIMEOUT = 5.0
_FALLBACK_FAMILIES = ("DejaVu Sans", "sans-serif")
_cache: dict[str, str] = {}


async def _fc_match(name: str) -> str | None:
    # fontconfig pattern syntax gives "-" a meaning ("Foo-12" is size 12): escape it.
    pattern = name.replace("\\", "\\\\").replace("-", "\\-").replace(":", "\\:")
    try:
        got = await run_capture(
            ["fc-match", "-f", "%{file}", "--", pattern], timeout=FC_MATCH_TIMEOUT
        )
    except (OSError, TimeoutError):
        return None
    path = got.stdout.decode("utf-8", "replace").strip()
    if got.returncode != 0 or not os.path.isabs(path) or not os.path.isfile(path):
        return None
    return path


async def _fallback() -> str:
    if os.path.isfile(DEFAULT_FONT_FILE):
        return DEFAULT_FONT_FILE
    for family in _FALLBACK_FAMILIES:
        if found := await _fc_match(family):
            return found
    return DEFAULT_FONT_FILE  # nothing better exists; drawtext will say so


async def resolve_font(name: str, settings: Settings) -> str:
    """Absolute path of a font file for a family name (cached); the default font if none."""
    if name not in _cache:
        _cache[name] = await _fc_match(name) or await _fallback()
    return _cache[name]
