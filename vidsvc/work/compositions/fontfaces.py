"""What the text engine needs to know of a resolved font file: its family name and size ratio.

libass finds fonts by family name (through fontconfig), and sizes them by their full height
(usWinAscent + usWinDescent, as libass' ass_font.c reads them) where `style.size` means the em
size: both facts come from the file itself, read with fontTools (a well-kept font library,
about 5 MB installed). Reading is blocking, so it runs in a thread; answers are cached.

Imports the leaves and vidsvc.graph (for the FontFace value) only.
"""

from __future__ import annotations

import asyncio
import os

from fontTools.ttLib import TTFont, TTLibError

from vidsvc.graph import FontFace

#: The family libass falls back to when a file cannot be read (fontconfig maps it to a font).
FALLBACK_FAMILY = "DejaVu Sans"
#: DejaVu Sans' ratio (2384 / 2048): the default when a file cannot be read.
FALLBACK_RATIO = 1.164
_cache: dict[tuple[str, int, int], FontFace] = {}


def _read(path: str) -> FontFace:
    try:
        font = TTFont(path, fontNumber=0, lazy=True)
        try:
            names = font["name"]
            family = names.getDebugName(1) or FALLBACK_FAMILY
            upem = int(font["head"].unitsPerEm)
            os2 = font["OS/2"] if "OS/2" in font else None
            height = int(os2.usWinAscent + os2.usWinDescent) if os2 is not None else 0
            if height <= 0:
                height = int(font["hhea"].ascent - font["hhea"].descent)
            ratio = height / upem if upem > 0 and height > 0 else FALLBACK_RATIO
            bold = os2 is not None and int(os2.usWeightClass) >= 600
            italic = os2 is not None and bool(int(os2.fsSelection) & 1)
        finally:
            font.close()
    except (OSError, TTLibError, KeyError, AttributeError, ValueError):
        return FontFace(path=path, family=FALLBACK_FAMILY, em_ratio=FALLBACK_RATIO)
    return FontFace(path=path, family=family, em_ratio=round(ratio, 4), bold=bold, italic=italic)


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
