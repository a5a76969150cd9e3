"""One font file read whole with fontTools: the facts the text engine needs, the check of a
brought font, and its copy under a service-assigned family name.

A brought font is hostile input, and fontTools expands some tables far past their size (one
12-byte format-12 cmap group mapping 0..0x10FFFF becomes a dict of 1.1 million entries,
~280 MiB, and format-13 and format-14 ranges expand alike). So userfonts.py runs `main()`
in a child Python (`python -I -m vidsvc.media.fontfile SRC DST FAMILY`) through the one spawn
site, under an address-space and CPU limit: whatever a file costs, it is the child's, and it
is gone when the child exits. The installed fonts (trusted, from the OS packages) are read in
process through `facts()` (fontfaces.py).

What is read (`check`): the tables FreeType needs to load and draw the font and that libass
and the service read from it: head, hhea, hmtx, maxp, cmap (every subtable), name, post,
OS/2 when present (libass' size and the weight and slant it matches by), and the outlines:
loca+glyf (split into glyphs by loca) or CFF/CFF2 (the top DICT, charset and CharStrings
INDEX). fontTools decodes cmap subtables lazily, so each is forced here. Single glyphs are not
decoded (measured: 1.7 s and 64 MiB for a 3.4 MB Noto font, 3.3 s for a 5 MB one): FreeType
loads each glyph when drawn and a broken one is left undrawn, never an error. The layout
tables (GSUB, GPOS, GDEF, kern) are left to HarfBuzz, which sanitises them itself and drops a
broken one; decoding them with fontTools costs seconds on a CJK font.

The copy (`rename`) replaces every family, full and PostScript name (nameIDs 1, 4, 6, 16, 18,
21, 22) with the service's name, on the Windows and Mac platforms; every other table is copied
byte for byte (head but for its whole-file checksum, its timestamp kept), so the same file and
name always give the same bytes (the render cache hashes them).

Imports nothing from vidsvc (the child starts with fontTools only: ~0.1 s, 16 MiB).
"""

from __future__ import annotations

import json
import struct
import sys
from dataclasses import asdict, dataclass
from typing import Any

from fontTools.ttLib import TTFont

#: DejaVu Sans' ratio (2384 / 2048): the default when a font gives no usable height.
FALLBACK_RATIO = 1.164
#: Exit status of a refused file (its reason on stdout) and of one over the memory limit.
REFUSED, TOO_BIG = 2, 3
_REPLACED_NAMES = (1, 4, 6, 16, 18, 21, 22)
_CORE_TABLES = ("head", "hhea", "maxp", "hmtx", "cmap", "name", "post")


class Refused(Exception):
    """The file is not a usable font; the message says why (for the client)."""


@dataclass(frozen=True, slots=True)
class Facts:
    family: str  #: nameID 1, as the font names itself
    em_ratio: float  #: full height (usWinAscent + usWinDescent, else hhea) per em
    bold: bool
    italic: bool


def facts(font: TTFont) -> Facts:
    """The family, size ratio, weight and slant libass will see in `font`."""
    family = font["name"].getDebugName(1) or ""
    upem = int(font["head"].unitsPerEm)
    os2 = font["OS/2"] if "OS/2" in font else None
    height = int(os2.usWinAscent + os2.usWinDescent) if os2 is not None else 0
    if height <= 0:
        height = int(font["hhea"].ascent - font["hhea"].descent)
    ratio = height / upem if upem > 0 and height > 0 else FALLBACK_RATIO
    bold = os2 is not None and int(os2.usWeightClass) >= 600
    italic = os2 is not None and bool(int(os2.fsSelection) & 1)
    return Facts(family=family, em_ratio=round(ratio, 4), bold=bold, italic=italic)


def _read_outlines(font: TTFont) -> None:
    if "glyf" in font:
        font["glyf"]  # reads loca and splits glyf by it, one entry per glyph
    elif "CFF " in font or "CFF2" in font:
        cff = font["CFF " if "CFF " in font else "CFF2"].cff
        top = cff[cff.fontNames[0]]
        if len(top.CharStrings) != len(font.getGlyphOrder()):
            raise Refused("the CFF table's glyphs do not match maxp")
    else:
        raise Refused("the font has no outlines (no glyf or CFF table)")


def _kind(exc: Exception) -> str:
    return "too short" if isinstance(exc, struct.error) else type(exc).__name__


def check(font: TTFont) -> Facts:
    """Read every table libass or the service uses; Refused names the first that fails."""
    for tag in (*_CORE_TABLES, "OS/2"):
        if tag not in font:
            if tag == "OS/2":
                continue
            raise Refused(f"the font has no {tag} table")
        try:
            table = font[tag]
            if tag == "cmap":
                for sub in table.tables:
                    sub.ensureDecompiled()
        except MemoryError:
            raise
        except Exception as exc:  # fontTools' parsers raise many kinds on hostile bytes
            raise Refused(f"a damaged {tag} table ({_kind(exc)})") from exc
    try:
        _read_outlines(font)
    except (Refused, MemoryError):
        raise
    except Exception as exc:
        raise Refused(f"damaged outlines ({_kind(exc)})") from exc
    found = facts(font)
    if not found.family:
        raise Refused("the font has no family name")
    return found


def rename(src: str, dst: str, family: str) -> None:
    """Write `src` as `dst` with `family` as its only family, full and PostScript name."""
    font = TTFont(src, lazy=True)
    try:
        name = font["name"]
        name.names = [r for r in name.names if r.nameID not in _REPLACED_NAMES]
        for name_id in (1, 4, 6):
            name.setName(family, name_id, 3, 1, 0x409)  # Windows, Unicode BMP, English
            name.setName(family, name_id, 1, 0, 0)  # Mac, Roman, English
        font.recalcTimestamp = False  # the same input gives the same bytes
        font.recalcBBoxes = False
        font.save(dst, reorderTables=False)
    finally:
        font.close()


def inspect(src: str, dst: str, family: str) -> dict[str, Any]:
    """check() `src`, then rename() it to `dst`: the child's whole work, as JSON-ready data."""
    font = TTFont(src)  # lazy=False would also expand every glyph: seconds on a CJK font
    try:
        found = check(font)
    finally:
        font.close()
    rename(src, dst, family)
    return asdict(found)


def main(argv: list[str]) -> int:
    src, dst, family = argv
    try:
        answer = inspect(src, dst, family)
    except MemoryError:
        return TOO_BIG
    except Refused as exc:
        print(json.dumps({"refused": str(exc)}))
        return REFUSED
    except Exception as exc:  # the file did not even open as a font
        print(json.dumps({"refused": f"a damaged font ({_kind(exc)})"}))
        return REFUSED
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
