"""What the text engine needs to know of an installed font file: its family name and size ratio.

libass finds fonts by family name (through fontconfig), and sizes them by their full height
(usWinAscent + usWinDescent, as libass' ass_font.c reads them) where `style.size` means the em
size: both facts come from the file itself, read with fontTools (a well-kept font library,
about 5 MB installed) by media/fontfile.facts(). Reading is blocking, so it runs in a thread;
answers are cached. Only installed files (media/fonts.resolve_font's answers: OS packages, a
bounded set) are read here, in process; a composition's own fonts are read in a child with
limits (userfonts.py).

Imports the leaves, vidsvc.media.fontfile and vidsvc.graph (for the FontFace value) only.
"""

from __future__ import annotations

import asyncio
import os

from fontTools.ttLib import TTFont

from vidsvc.graph import FontFace
from vidsvc.media.fontfile import FALLBACK_RATIO, facts

#: The family libass falls back to when a file cannot be read (fontconfig maps it to a font).
FALLBACK_FAMILY = "DejaVu Sans"
_cache: dict[tuple[str, int, int], FontFace] = {}


def _read(path: str) -> FontFace:
    try:
        font = TTFont(path, fontNumber=0, lazy=True)
        try:
            found = facts(font)
        finally:
            font.close()
    except Exception:  # an unreadable file is drawn with the default
        return FontFace(path=path, family=FALLBACK_FAMILY, em_ratio=FALLBACK_RATIO)
    return FontFace(
        path=path,
        family=found.family or FALLBACK_FAMILY,
        em_ratio=found.em_ratio,
        bold=found.bold,
        italic=found.italic,
    )


async def font_face(path: str) -> FontFace:
    """The FontFace of a font file (cached by path, size and mtime, so an upgraded file is
    read again; a file that cannot be read gives the default)."""
    try:
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
    except OSError:
        return FontFace(path=path, family=FALLBACK_FAMILY, em_ratio=FALLBACK_RATIO)
    if key not in _cache:
        _cache[key] = await asyncio.to_thread(_read, path)
    return _cache[key]
