"""`fonts: [{family, url}]` (SPEC §3.1, RELIABILITY N3): a brought font is drawn by its family,
only in its own job; anything but one whole TTF/OTF is refused naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont

from tests.support.media import FAST, Frame, ffmpeg, frame_at
from tests.support.render_doc import Render
from tests.support.textpix import Ink, ink
from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions import userfonts

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FAMILY = "Vidsvc Test Brand"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fonts") / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x180:r=10:d=1", *FAST, str(path))
    return path


@pytest.fixture(scope="module")
def brand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DejaVu Serif Bold renamed to a family no system font has."""
    path = tmp_path_factory.mktemp("fonts") / "brand.ttf"
    font = TTFont(str(DEJAVU / "DejaVuSerif-Bold.ttf"))
    for record in font["name"].names:
        if record.nameID in (1, 4, 6, 16):
            record.string = FAMILY if record.nameID != 6 else FAMILY.replace(" ", "")
    font.save(str(path))
    return path


async def drawn(render_doc: Render, clip: Path, fonts: list[dict[str, Any]]) -> Ink:
    result = await render_doc(
        {
            "clips": [{"url": clip}],
            "overlays": [{"content": "Brand Hello", "style": {"font": "Brand", "size": 30}}],
            "fonts": fonts,
        }
    )
    return ink(frame_at(result.video, 0.5))


@pytest.mark.ffmpeg
async def test_a_brought_font_is_drawn_by_its_family_in_its_job_only(
    render_doc: Render, clip: Path, brand: Path
) -> None:
    ours = await drawn(render_doc, clip, [{"family": "Brand", "url": brand.as_uri()}])
    other_job = await drawn(render_doc, clip, [])  # "Brand" unknown here: the default font
    assert other_job.box is not None and ours.box is not None
    assert ours.count > 1.25 * other_job.count, (ours, other_job)  # bold serif: more ink


def truncated(tmp: Path) -> Path:
    path = tmp / "cut.ttf"
    path.write_bytes((DEJAVU / "DejaVuSans.ttf").read_bytes()[:30_000])
    return path


def not_a_font(tmp: Path) -> Path:
    path = tmp / "fake.ttf"
    path.write_text("this is not a font\n" * 100)
    return path


def collection(tmp: Path) -> Path:
    found = sorted(Path("/usr/share/fonts").rglob("*.ttc"))
    if not found:
        pytest.skip("no TTC installed (fonts-noto-cjk has them)")
    return found[0]


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    ("make", "why"),
    [(truncated, "damaged"), (not_a_font, "not a TrueType"), (collection, "collection")],
)
async def test_bad_fonts_are_refused_naming_the_field(
    render_doc: Render, clip: Path, tmp_path: Path, make: Any, why: str
) -> None:
    with pytest.raises(InvalidClipFormat) as info:
        await drawn(render_doc, clip, [{"family": "Brand", "url": make(tmp_path).as_uri()}])
    assert info.value.details["field"] == "fonts[0].url"
    assert why in info.value.message


def test_a_font_over_the_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(userfonts, "MAX_FONT_BYTES", 1000)
    with pytest.raises(InvalidClipFormat, match="over the cap"):
        userfonts.check_font(DEJAVU / "DejaVuSans.ttf", "fonts[0].url")


@pytest.mark.ffmpeg
async def test_a_family_colliding_with_a_system_font_draws_the_brought_file(
    render_doc: Render, clip: Path, tmp_path: Path
) -> None:
    """N3: a brought font whose internal family is "DejaVu Sans" (a system family) is still
    the file drawn for its job, and the system font stays the other jobs' default."""
    path = tmp_path / "collide.ttf"
    font = TTFont(str(DEJAVU / "DejaVuSerif.ttf"))
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = "DejaVu Sans"
    font.save(str(path))
    ours = await drawn(render_doc, clip, [{"family": "Brand", "url": path.as_uri()}])
    system = await drawn(render_doc, clip, [])
    serif = await drawn(
        render_doc, clip, [{"family": "Brand", "url": (DEJAVU / "DejaVuSerif.ttf").as_uri()}]
    )
    assert ours.like(serif, ink=0.03) and not system.like(serif, ink=0.03), (ours, serif, system)


# -- issue 22: the service names brought fonts -------------------------------------------------

WORD = "Hamburg"
TOP, BOTTOM = (0, 0, 320, 80), (0, 90, 320, 180)  #: the crops of the two overlays below


def renamed(src: Path, dst: Path, family: str) -> Path:
    """`src` with `family` as its internal family, full and typographic family name."""
    font = TTFont(str(src))
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = family
    font.save(str(dst))
    return dst


def mask(frame: Frame, crop: tuple[int, int, int, int]) -> set[tuple[int, int]]:
    """The text pixels of a crop, relative to the crop (light text on black)."""
    x0, y0, x1, y1 = crop
    return {
        (x - x0, y - y0)
        for y in range(y0, y1)
        for x in range(x0, x1)
        if sum(frame.pixel(x, y)) / 3 > 100
    }


def same(a: set[tuple[int, int]], b: set[tuple[int, int]]) -> float:
    """Jaccard similarity of two text masks (1: the same pixels)."""
    return len(a & b) / max(1, len(a | b))


async def two_words(render_doc: Render, clip: Path, top: str, bottom: str, fonts: Any) -> Frame:
    def text(font: str, y: int) -> dict[str, Any]:
        return {
            "content": WORD,
            "position": {"x": 20, "y": y},
            "style": {"font": font, "size": 40},
        }

    result = await render_doc(
        {"clips": [{"url": clip}], "overlays": [text(top, 15), text(bottom, 105)], "fonts": fonts}
    )
    return frame_at(result.video, 0.5)


@pytest.mark.ffmpeg
async def test_two_brought_fonts_with_one_internal_family_each_draw_their_own(
    render_doc: Render, clip: Path, tmp_path: Path
) -> None:
    """DejaVu Sans and DejaVu Serif both renamed "Vidsvc Same" inside: each overlay is drawn
    in its own file's glyphs, as the installed originals draw them (libass found the first one
    loaded for both before the service named the copies)."""
    sans = renamed(DEJAVU / "DejaVuSans.ttf", tmp_path / "a.ttf", "Vidsvc Same")
    serif = renamed(DEJAVU / "DejaVuSerif.ttf", tmp_path / "b.ttf", "Vidsvc Same")
    fonts = [{"family": "Sans", "url": sans.as_uri()}, {"family": "Serif", "url": serif.as_uri()}]
    ours = await two_words(render_doc, clip, "Sans", "Serif", fonts)
    reference = await two_words(render_doc, clip, "DejaVu Sans", "DejaVu Serif", [])
    top, bottom = mask(ours, TOP), mask(ours, BOTTOM)
    assert len(top) > 200 and len(bottom) > 200, (len(top), len(bottom))
    assert same(top, mask(reference, TOP)) > 0.9, same(top, mask(reference, TOP))
    assert same(bottom, mask(reference, BOTTOM)) > 0.9, same(bottom, mask(reference, BOTTOM))
    assert same(top, bottom) < 0.7, same(top, bottom)  # the two faces differ


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    "internal", ["Brand{x}", "Brand, Serif", "@Brand", "Br\\and", "DejaVu Sans"]
)
async def test_any_internal_family_name_is_drawn_not_the_fallback(
    render_doc: Render, clip: Path, tmp_path: Path, internal: str
) -> None:
    """A brought DejaVu Serif whose internal family has a character ASS or fontconfig reads
    (`{` `}` `,` `\\`, a leading `@`: vertical) or an installed family's name is drawn as
    DejaVu Serif, not as the default font (DejaVu Sans)."""
    serif = renamed(DEJAVU / "DejaVuSerif.ttf", tmp_path / "s.ttf", internal)
    fonts = [{"family": "Brand", "url": serif.as_uri()}]
    ours = await two_words(render_doc, clip, "Brand", "Brand", fonts)
    reference = await two_words(render_doc, clip, "DejaVu Serif", "DejaVu Sans", [])
    top = mask(ours, TOP)
    assert same(top, mask(reference, TOP)) > 0.9, same(top, mask(reference, TOP))
    assert same(top, mask(reference, BOTTOM)) < 0.7  # not the default font
