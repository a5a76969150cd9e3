"""`fonts: [{family, url}]` (SPEC §3.1, RELIABILITY N3): a brought font is drawn by its family,
only in its own job; anything but one whole TTF/OTF is refused naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont

from tests.support.media import FAST, ffmpeg, frame_at
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
