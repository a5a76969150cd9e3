"""media/fontfile.py: a font read whole (every table libass or the service uses) and its copy
under a service-assigned family. Real Debian fonts, and variants crafted here with fontTools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables.DefaultTable import DefaultTable

from vidsvc.media import fontfile
from vidsvc.media.fontfile import Refused

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
SANS = DEJAVU / "DejaVuSans.ttf"
CJK_TTC = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def checked(path: Path) -> fontfile.Facts:
    font = TTFont(str(path))
    try:
        return fontfile.check(font)
    finally:
        font.close()


def variant(tmp: Path, tag: str, data: bytes | None) -> Path:
    """DejaVu Sans with table `tag` replaced by raw `data` (None: removed)."""
    font = TTFont(str(SANS))
    if data is None:
        del font[tag]
    else:
        table = DefaultTable(tag)
        table.data = data
        font[tag] = table
    path = tmp / f"variant-{tag.strip().replace('/', '')}.ttf"
    font.save(str(path))
    return path


def raw(tag: str) -> bytes:
    data: bytes = TTFont(str(SANS)).reader[tag]
    return data


@pytest.mark.parametrize(
    ("file", "family", "ratio", "bold", "italic"),
    [
        ("DejaVuSans.ttf", "DejaVu Sans", 1.1641, False, False),
        ("DejaVuSerif-Bold.ttf", "DejaVu Serif", 1.1748, True, False),
        ("DejaVuSans-Oblique.ttf", "DejaVu Sans", 1.1641, False, True),
    ],
)
def test_facts_of_whole_fonts(
    file: str, family: str, ratio: float, bold: bool, italic: bool
) -> None:
    assert checked(DEJAVU / file) == fontfile.Facts(family, ratio, bold, italic)


@pytest.fixture(scope="module")
def cjk_otf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Noto Sans CJK JP as a single OpenType/CFF file (the first font of Debian's TTC)."""
    path = tmp_path_factory.mktemp("cjk") / "NotoSansCJKjp.otf"
    font = TTFont(str(CJK_TTC), fontNumber=0, lazy=True)
    try:
        font.save(str(path))
    finally:
        font.close()
    return path


def test_a_cff_font_is_read(cjk_otf: Path) -> None:
    assert checked(cjk_otf) == fontfile.Facts("Noto Sans CJK JP", 1.448, False, False)


@pytest.mark.parametrize(
    ("tag", "data", "why"),
    [
        ("OS/2", raw("OS/2")[:20], "a damaged OS/2 table (too short)"),  # the red-team case
        ("hhea", raw("hhea")[:10], "a damaged hhea table"),
        ("head", raw("head")[:30], "a damaged head table"),
        ("cmap", raw("cmap")[:12], "a damaged cmap table"),
        ("maxp", raw("maxp")[:3], "a damaged maxp table"),
        ("name", raw("name")[:9], "no family name"),  # no records left
        ("cmap", None, "no cmap table"),
        ("post", None, "no post table"),
        ("glyf", None, "no outlines"),
    ],
    ids=[f"short_{t}" for t in ("os2", "hhea", "head", "cmap", "maxp", "name")]
    + ["no_cmap", "no_post", "no_glyf"],
)
def test_a_damaged_or_missing_table_is_refused(
    tmp_path: Path, tag: str, data: bytes | None, why: str
) -> None:
    with pytest.raises(Refused, match=why.replace("(", r"\(").replace(")", r"\)")):
        checked(variant(tmp_path, tag, data))


def test_main_answers_json_and_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "out.ttf"
    assert fontfile.main([str(SANS), str(dst), "vidsvc-font-0"]) == 0
    assert '"em_ratio": 1.1641' in capsys.readouterr().out
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"\x00\x01\x00\x00" + bytes(100))
    assert fontfile.main([str(junk), str(dst), "x"]) == fontfile.REFUSED
    assert '"refused": "the font has no head table"' in capsys.readouterr().out
    junk.write_bytes(b"OTTO" + b"\xff" * 100)  # a table directory past the end
    assert fontfile.main([str(junk), str(dst), "x"]) == fontfile.REFUSED
    assert '"refused": "a damaged font' in capsys.readouterr().out


def names(path: Path) -> dict[tuple[int, int], str]:
    font = TTFont(str(path))
    return {(r.nameID, r.platformID): r.toUnicode() for r in font["name"].names}


def test_the_copy_has_only_the_assigned_family_and_the_same_glyphs(tmp_path: Path) -> None:
    src = tmp_path / "typo.ttf"
    font = TTFont(str(SANS))
    font["name"].setName("Typographic {Family}", 16, 3, 1, 0x409)
    font["name"].setName("@WWS, Family", 21, 3, 1, 0x409)
    font.save(str(src))
    one, two = tmp_path / "one.ttf", tmp_path / "two.ttf"
    fontfile.rename(str(src), str(one), "vidsvc-font-3")
    fontfile.rename(str(src), str(two), "vidsvc-font-3")
    assert one.read_bytes() == two.read_bytes()  # the render cache hashes the copy
    got = names(one)
    assert {k: v for k, v in got.items() if k[0] in (1, 4, 6, 16, 18, 21, 22)} == {
        (i, p): "vidsvc-font-3" for i in (1, 4, 6) for p in (1, 3)
    }
    assert got[(2, 3)] == "Book"  # the style name stays
    before, after = TTFont(str(src)), TTFont(str(one))
    for tag in before.reader.keys():
        if tag not in ("name", "head"):
            assert before.reader[tag] == after.reader[tag], tag
    assert before.reader["head"][12:] == after.reader["head"][12:]  # all but checkSumAdjustment
    fontconfig = subprocess.run(
        ["fc-scan", "--format", "%{family}|%{fullname}|%{postscriptname}", str(one)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert fontconfig == "vidsvc-font-3|vidsvc-font-3|vidsvc-font-3"
