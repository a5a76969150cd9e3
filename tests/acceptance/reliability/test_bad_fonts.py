"""Hostile `fonts[]` through the real app (issue 22, the red-team's font cases): a damaged or
costly font file fails its job as INVALID_CLIP_FORMAT naming `fonts[i].url` (never an internal
error), and two fonts under one family are a 400 naming the second `fonts[j].family`.

The files are real fonts (Debian's DejaVu) with one table cut or replaced by fontTools here.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables.DefaultTable import DefaultTable

from tests.support.real_app import App

pytestmark = [pytest.mark.B, pytest.mark.S]

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def with_raw_table(src: Path, dst: Path, tag: str, data: bytes) -> Path:
    """`src` with table `tag` replaced by `data` as they are (fontTools writes, never checks)."""
    font = TTFont(str(src))
    table = DefaultTable(tag)
    table.data = data
    font[tag] = table
    font.save(str(dst))
    return dst


def short_os2(folder: Path) -> Path:
    """The OS/2 table cut to its first 20 bytes (its usWin* metrics are past the end)."""
    raw = TTFont(str(DEJAVU)).reader["OS/2"]
    return with_raw_table(DEJAVU, folder / "short-os2.ttf", "OS/2", raw[:20])


def huge_cmap(folder: Path) -> Path:
    """One format-12 group mapping every code point (0..0x10FFFF): 12 bytes that fontTools
    expands into a dict of 1.1 million entries (about 280 MiB)."""
    sub = struct.pack(">HHIII", 12, 0, 28, 0, 1) + struct.pack(">III", 0, 0x10FFFF, 1)
    cmap = struct.pack(">HHHHI", 0, 1, 3, 10, 12) + sub
    return with_raw_table(DEJAVU, folder / "huge-cmap.ttf", "cmap", cmap)


def body(clips: Path, fonts: list[dict[str, str]]) -> dict[str, object]:
    return {
        "clips": [{"url": (clips / "good.mp4").as_uri()}],
        "overlays": [{"content": "Brand", "style": {"font": "Brand", "size": 30}}],
        "fonts": fonts,
        "output": {"resolution": "180p", "fps": 10},
    }


@pytest.mark.ffmpeg
@pytest.mark.parametrize(("make", "why"), [(short_os2, "OS/2"), (huge_cmap, "MiB")])
async def test_a_damaged_or_costly_font_fails_its_job_naming_the_field(
    make_app: Callable[..., Awaitable[App]],
    clips: Path,
    make: Callable[[Path], Path],
    why: str,
) -> None:
    """A short OS/2 table passed the check and then failed the job as an internal error; a
    one-group cmap cost ~280 MiB of the server's memory. Both are INVALID_CLIP_FORMAT now."""
    font = make(clips)
    app = await make_app()
    status, answer = await app.post(body(clips, [{"family": "Brand", "url": font.as_uri()}]))
    assert status == 202, answer
    final = await app.finished(answer["composition_id"])
    assert final["status"] == "failed", final
    error = final["error"]
    assert error["code"] == "INVALID_CLIP_FORMAT", error
    assert error["details"]["field"] == "fonts[0].url", error
    assert why in error["message"], error


@pytest.mark.ffmpeg
async def test_two_fonts_under_one_family_are_a_400_naming_the_second(
    make_app: Callable[..., Awaitable[App]], clips: Path
) -> None:
    """Families are matched without regard to case (as fontconfig and libass match them), so
    "brand" after "Brand" is the same family: refused, not the last one silently drawn."""
    url = (clips / "dejavu.ttf").as_uri()
    (clips / "dejavu.ttf").write_bytes(DEJAVU.read_bytes())
    fonts = [
        {"family": "Brand", "url": url},
        {"family": "Other", "url": url},
        {"family": "brand", "url": url},
    ]
    app = await make_app(fake="sleep:0.1")
    status, answer = await app.post(body(clips, fonts))
    assert status == 400, answer
    error = answer["error"]
    assert (error["code"], error["details"]["field"]) == ("VALIDATION_ERROR", "fonts[2].family")
    assert app.renders() == [] and await app.row_count() == 0
