"""A composition's own fonts (work/compositions/userfonts.py, issue 22): read in a bounded
child, copied under a service-assigned family, answering for their family in any case.
Real fonts (Debian's DejaVu, a variant crafted with fontTools) and the real child Python."""

from __future__ import annotations

import asyncio
import resource
import struct
import time
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables.DefaultTable import DefaultTable

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.schema import parse_composition
from vidsvc.work.compositions import userfonts
from vidsvc.work.compositions.userfonts import read_font, stage_fonts

SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


def huge_cmap(folder: Path) -> Path:
    """DejaVu Sans whose cmap is one format-12 group over every code point (12 bytes that
    fontTools expands to a dict of 1.1 million entries)."""
    sub = struct.pack(">HHIII", 12, 0, 28, 0, 1) + struct.pack(">III", 0, 0x10FFFF, 1)
    font = TTFont(str(SANS))
    table = DefaultTable("cmap")
    table.data = struct.pack(">HHHHI", 0, 1, 3, 10, 12) + sub
    font["cmap"] = table
    font.save(str(folder / "huge.ttf"))
    return folder / "huge.ttf"


async def test_a_font_is_read_in_a_child_and_copied_under_the_assigned_name(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "vidsvc-font-0.ttf"
    face = await read_font(SANS, copy, "vidsvc-font-0", "fonts[0].url")
    assert (face.path, face.family, face.em_ratio) == (str(copy), "vidsvc-font-0", 1.1641)
    assert TTFont(str(copy))["name"].getDebugName(1) == "vidsvc-font-0"


async def test_a_huge_cmap_is_refused_by_the_childs_memory_limit(tmp_path: Path) -> None:
    """The red-team font: in process it raised this process's peak by ~285 MiB (and the
    memory stayed); in the child it is refused at FONT_CHECK_MEMORY_MB and ours is unmoved."""
    font = huge_cmap(tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InvalidClipFormat) as info:
        await read_font(font, tmp_path / "copy.ttf", "vidsvc-font-2", "fonts[2].url")
    assert info.value.details["field"] == "fonts[2].url"
    assert f"{userfonts.FONT_CHECK_MEMORY_MB} MiB" in info.value.message
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024, grown_kib
    assert not (tmp_path / "copy.ttf").exists()


async def test_a_child_over_its_time_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(userfonts, "FONT_CHECK_TIMEOUT_S", 0.001)
    with pytest.raises(InvalidClipFormat, match="reading the font takes over"):
        await read_font(SANS, tmp_path / "copy.ttf", "vidsvc-font-0", "fonts[0].url")


async def test_the_loop_stays_free_while_a_font_is_read(tmp_path: Path) -> None:
    """The check is the child's CPU: ticks of 10 ms keep coming while it runs."""
    gaps: list[float] = []

    async def ticks() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(ticks())
    try:
        with pytest.raises(InvalidClipFormat):
            await read_font(huge_cmap(tmp_path), tmp_path / "c.ttf", "x", "fonts[0].url")
    finally:
        ticker.cancel()
    assert len(gaps) >= 5 and max(gaps) < 0.25, (len(gaps), max(gaps))


async def test_brought_fonts_answer_for_their_family_in_any_case(
    tmp_path: Path, settings: Settings
) -> None:
    comp = parse_composition(
        {
            "clips": [{"url": "s3://b/a.mp4"}],
            "overlays": [
                {"content": "a", "style": {"font": "brand sans"}},
                {"content": "b", "style": {"font": "Other"}},
                {"content": "c", "style": {"font": "DejaVu Sans"}},
            ],
            "fonts": [
                {"family": "Brand Sans", "url": SERIF.as_uri()},
                {"family": "OTHER", "url": SANS.as_uri()},
            ],
        }
    )
    work = tmp_path / "job"
    work.mkdir()
    faces = await stage_fonts(comp, work, settings)
    assert {k: v.family for k, v in faces.items()} == {
        "Brand Sans": "vidsvc-font-0",
        "brand sans": "vidsvc-font-0",
        "OTHER": "vidsvc-font-1",
        "Other": "vidsvc-font-1",
    }
    assert faces["Other"].path == str(work / "userfonts" / "vidsvc-font-1.ttf")
