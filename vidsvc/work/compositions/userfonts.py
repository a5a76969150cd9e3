"""`fonts: [{family, url}]`: TTF/OTF files a composition brings, staged like every input.

Each file is fetched by the input staging (URL policy, size cap, service-chosen name) into the
job's own directory, then checked here before use: at most MAX_FONT_BYTES, and a single
TrueType or OpenType font that fontTools parses (its `name`, `cmap`, `head` and metrics
tables read, so a truncated file fails here, not in libass). A collection (TTC/OTC), any other
file or a broken font is INVALID_CLIP_FORMAT naming `fonts[i].url`. A usable font answers
for its `family` in `style.font`; libass reaches it through the job's font directory only, so
one job's fonts are never another job's fallback.

Imports the leaves, vidsvc.graph (FontFace), vidsvc.inputs.staging and .fontfaces.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.graph import FontFace
from vidsvc.inputs import staging as inputs
from vidsvc.work.compositions.fontfaces import font_face

MAX_FONT_BYTES = 20 * 1024 * 1024
#: The first bytes of a single TrueType ("\0\1\0\0", "true") or OpenType/CFF ("OTTO") font.
FONT_MAGIC = (b"\x00\x01\x00\x00", b"true", b"OTTO")


def check_font(path: Path, field: str) -> None:
    """Refuse (naming `field`) anything but one whole, readable TTF/OTF font."""

    size = path.stat().st_size
    if size > MAX_FONT_BYTES:
        raise InvalidClipFormat.at(field, f"{size} bytes, over the cap of {MAX_FONT_BYTES}")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic in (b"ttcf",):
        raise InvalidClipFormat.at(field, "a font collection (TTC/OTC); give one TTF or OTF font")
    if magic not in FONT_MAGIC:
        raise InvalidClipFormat.at(field, "not a TrueType or OpenType font")
    try:
        font = TTFont(str(path), lazy=False)
        try:
            for table in ("name", "cmap", "head", "hhea", "hmtx"):
                font[table]  # parse: a truncated or damaged table raises here
            if not font["name"].getDebugName(1):
                raise InvalidClipFormat.at(field, "the font has no family name")
        finally:
            font.close()
    except InvalidClipFormat:
        raise
    except (TTLibError, KeyError, OSError, ValueError, AssertionError, EOFError) as exc:
        raise InvalidClipFormat.at(field, f"a damaged font ({type(exc).__name__})") from exc
    except Exception as exc:  # fontTools' table parsers raise many kinds on hostile bytes
        raise InvalidClipFormat.at(field, f"a damaged font ({type(exc).__name__})") from exc


async def stage_fonts(
    comp: spec.Composition, workdir: Path, settings: Settings
) -> dict[str, FontFace]:
    """family → FontFace of every font the composition brings (checked, in this job only)."""
    if not comp.fonts:
        return {}
    folder = workdir / "userfonts"
    folder.mkdir(mode=0o700, exist_ok=True)
    fonts = [i for i in comp.inputs() if i.kind == "font"]
    fields = {i.url: i.field for i in reversed(fonts)}  # a URL given twice: its first field
    staged = await inputs.stage(list(fields), folder, settings, fields=fields)
    for url, path in staged.items():
        await asyncio.to_thread(check_font, path, fields[url])
    return {f.family: await font_face(str(staged[f.url])) for f in comp.fonts}
