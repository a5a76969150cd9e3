"""`.cube` LUTs read and checked (work/compositions/cube.py): crafted files for each refusal,
real files other people made (tests/support/luts/, see its README), and the blend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions import cube

FIELD = "clips[2].grade.lut_url"
LUTS = Path(__file__).parents[2] / "support" / "luts"


Colour = Callable[[float, float, float], tuple[float, float, float]]


def same(r: float, g: float, b: float) -> tuple[float, float, float]:
    return r, g, b


def invert(r: float, g: float, b: float) -> tuple[float, float, float]:
    return 1 - r, 1 - g, 1 - b


def table(size: int, colour: Colour = same) -> str:
    """A LUT_3D_SIZE `size` table of `colour` at each grid point (red fastest)."""
    step = 1 / (size - 1)
    rows = [
        " ".join(f"{v:g}" for v in colour(r * step, g * step, b * step))
        for b in range(size)
        for g in range(size)
        for r in range(size)
    ]
    return f"LUT_3D_SIZE {size}\n" + "\n".join(rows) + "\n"


def refused(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(InvalidClipFormat) as caught:
        cube.parse(raw, FIELD)
    assert caught.value.details["field"] == FIELD
    assert caught.value.message.startswith(f"{FIELD}: ")
    return caught.value.message


def test_a_table_with_title_comments_and_unit_domain_is_read() -> None:
    text = (
        '\ufeffTITLE "a # in a title"\n# made by hand\n\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1.0 1 1\n'
        + table(3).replace("\n0.5 0 0\n", "\n0.5 0 0  # a comment after a row\n")
    )
    read = cube.parse(text.encode(), FIELD)
    assert read.size == 3 and len(read.table) == 27 * 3
    assert list(read.table[:6]) == [0, 0, 0, 0.5, 0, 0]  # red changes fastest


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (table(2).replace("LUT_3D_SIZE 2", "LUT_3D_SIZE 300"), "LUT_3D_SIZE 300 is not 2 to 65"),
        (table(2).replace("LUT_3D_SIZE 2", "LUT_3D_SIZE 1"), "LUT_3D_SIZE 1 is not 2 to 65"),
        (table(2).replace("LUT_3D_SIZE 2", "LUT_3D_SIZE 2.5"), "needs one whole number"),
        (table(2).replace("\n1 1 1\n", "\nnan 1 1\n"), "line 9: 'nan' is not a finite number"),
        (table(2).replace("\n1 1 1\n", "\n1 1e999 1\n"), "'1e999' is not a finite number"),
        (table(2).replace("\n1 1 1\n", "\n1 1_0 1\n"), "'1_0' is not a finite number"),
        (table(2).replace("\n1 1 1\n", "\n1 1\n"), "line 9: a table row needs 3 numbers, not 2"),
        (table(3).rsplit("\n", 2)[0] + "\n", "26 table rows where LUT_3D_SIZE 3 needs 3³ = 27"),
        (table(2) + "0 0 0\n", "9 table rows where LUT_3D_SIZE 2 needs 2³ = 8"),
        ("0 0 0\n1 1 1\n", "no LUT_3D_SIZE before the table"),
        ('TITLE "nothing"\nLUT_3D_SIZE 2\n', "no table"),
        ("", "no table"),
        (
            table(2).replace("LUT_3D_SIZE 2", "LUT_3D_SIZE 2\nSHAPER on"),
            "unknown keyword 'SHAPER'",
        ),
        (table(2) + "DOMAIN_MIN 0 0 0\n", "'DOMAIN_MIN' after the table began"),
        ("DOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 2 3\n" + table(2), "only a 0 to 1 domain"),
        ("LUT_3D_INPUT_RANGE -0.1 3\n" + table(2), "only a 0 to 1 domain"),
        ("LUT_1D_SIZE 2\n0 0 0\n1 1 1\n", "a 1D LUT"),
    ],
)
def test_a_bad_table_is_refused_with_its_reason(text: str, reason: str) -> None:
    assert reason in refused(text)


def test_binary_files_and_other_encodings_are_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert "a binary file" in refused(png)
    assert "not UTF-8 text (byte 10)" in refused('TITLE "caf\xe9"\n'.encode("latin-1"))


def test_a_file_over_the_cap_is_refused_before_it_is_read() -> None:
    assert f"over the cap of {cube.MAX_LUT_BYTES} bytes" in refused(
        b"#" * (cube.MAX_LUT_BYTES + 1)
    )


def test_the_largest_size_is_read() -> None:
    assert cube.parse(table(65).encode(), FIELD).size == 65


def rows(text: str) -> list[tuple[float, ...]]:
    lines = text.splitlines()
    assert lines[0].startswith("LUT_3D_SIZE ")
    return [tuple(float(v) for v in line.split()) for line in lines[1:]]


def test_the_blend_at_0_is_the_identity_at_1_the_lut_and_between_the_mix() -> None:
    lut = cube.parse(table(5, invert).encode(), FIELD)
    identity, inverted = rows(table(5)), rows(table(5, invert))
    assert rows(cube.blend(lut, 0.0)) == identity
    assert rows(cube.blend(lut, 1.0)) == inverted
    halfway = rows(cube.blend(lut, 0.25))
    for got, a, b in zip(halfway, identity, inverted, strict=True):
        assert got == pytest.approx([0.75 * x + 0.25 * y for x, y in zip(a, b, strict=True)])
    assert cube.blend(lut, 1.0).startswith("LUT_3D_SIZE 5\n")  # nothing but size and rows


# -- real files (tests/support/luts/README.md) ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "size"), [("Colour_Correct.cube", 4), ("Three_Dimensional_Table.cube", 2)]
)
def test_real_3d_luts_are_read(name: str, size: int) -> None:
    read = cube.parse((LUTS / name).read_bytes(), FIELD)
    assert read.size == size and len(read.table) == size**3 * 3


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Demo.cube", "line 2: a 1D LUT"),
        ("LogC_Video_resolve.cube", "line 4: a 1D LUT (or a 1D shaper)"),
        ("eotf_sRGB_3D.cube", "line 5: DOMAIN_MIN -0.1000000 -0.1500000 -0.2000000"),
    ],
)
def test_real_luts_vidsvc_cannot_draw_as_made_are_refused(name: str, reason: str) -> None:
    assert reason in refused((LUTS / name).read_bytes())
