"""Grades on rendered output (docs/composition.md#grade): a LUT's colours, its intensity, eq's
saturation and brightness, the colour temperature, a clip's own grade beside the composition's,
real LUTs other people made, and a graded render-ready clip encoded, not copied."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import Frame, frame_at, make_render_ready
from tests.support.render_doc import Render
from vidsvc.config import Settings
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render

pytestmark = pytest.mark.ffmpeg
LUTS = Path(__file__).parents[1] / "support" / "luts"
BOX = (100, 60, 220, 120)  #: the middle of a 320x180 frame


def cube_file(path: Path, size: int, invert: bool) -> Path:
    step = 1 / (size - 1)
    rows = [f"LUT_3D_SIZE {size}"]
    for b in range(size):
        for g in range(size):
            for r in range(size):
                rgb = (r * step, g * step, b * step)
                rows.append(" ".join(f"{1 - v if invert else v:.6f}" for v in rgb))
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def invert(tmp_path_factory: pytest.TempPathFactory) -> str:
    return cube_file(tmp_path_factory.mktemp("luts") / "invert.cube", 17, True).as_uri()


def colour(frame: Frame) -> tuple[float, float, float]:
    return frame.mean(BOX)


def near(got: tuple[float, ...], want: tuple[float, ...], tolerance: float) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(got, want, strict=True))


async def one_frame(render_doc: Render, clip: Path, grade: dict[str, Any] | None) -> Frame:
    doc: dict[str, Any] = {"clips": [{"url": clip, "trim_end": 1}]}
    if grade is not None:
        doc["grade"] = grade
    return frame_at((await render_doc(doc)).video, 0.5)


@pytest.fixture
async def plain(render_doc: Render, media: dict[str, Path]) -> tuple[float, float, float]:
    return colour(await one_frame(render_doc, media["tint"], None))


async def test_an_inverting_lut_inverts_a_known_colour_and_half_lands_halfway(
    render_doc: Render, media: dict[str, Path], invert: str, plain: tuple[float, float, float]
) -> None:
    full = colour(await one_frame(render_doc, media["tint"], {"lut_url": invert}))
    assert near(full, tuple(255 - v for v in plain), 4), (plain, full)
    half = colour(
        await one_frame(render_doc, media["tint"], {"lut_url": invert, "lut_intensity": 0.5})
    )
    assert near(half, (127.5, 127.5, 127.5), 4), (plain, half)


async def test_saturation_0_is_grey_and_brightness_lightens(
    render_doc: Render, media: dict[str, Path], plain: tuple[float, float, float]
) -> None:
    r, g, b = colour(await one_frame(render_doc, media["tint"], {"saturation": 0}))
    assert max(r, g, b) - min(r, g, b) <= 3 and 90 < g < 130, (plain, (r, g, b))
    lighter = colour(await one_frame(render_doc, media["tint"], {"brightness": 0.2}))
    assert all(after - before > 30 for before, after in zip(plain, lighter, strict=True))


async def test_a_low_temperature_warms_and_a_high_one_cools(
    render_doc: Render, media: dict[str, Path], plain: tuple[float, float, float]
) -> None:
    warm = colour(await one_frame(render_doc, media["tint"], {"temperature": 3000}))
    cool = colour(await one_frame(render_doc, media["tint"], {"temperature": 12000}))

    def warmth(c: tuple[float, float, float]) -> float:
        return c[0] - c[2]  # red over blue

    assert warmth(warm) > warmth(plain) + 20 and warmth(cool) < warmth(plain) - 20


async def test_a_clip_grade_replaces_the_composition_grade(
    render_doc: Render, media: dict[str, Path], invert: str, plain: tuple[float, float, float]
) -> None:
    """The composition's LUT on the first clip, none on the second (null), saturation 0 alone
    on the third (no LUT: its grade replaces the default whole)."""
    tint = media["tint"]
    result = await render_doc(
        {
            "clips": [
                {"url": tint, "trim_end": 1},
                {"url": tint, "trim_end": 1, "grade": None},
                {"url": tint, "trim_end": 1, "grade": {"saturation": 0}},
            ],
            "grade": {"lut_url": invert},
        }
    )
    inverted, ungraded, grey = (colour(frame_at(result.video, t)) for t in (0.5, 1.5, 2.5))
    assert near(inverted, tuple(255 - v for v in plain), 4)
    assert near(ungraded, plain, 3)
    assert max(grey) - min(grey) <= 3


async def test_the_grade_combines_with_the_colour_preset(
    render_doc: Render, media: dict[str, Path]
) -> None:
    """Saturation 0, then `warm`: the preset tints the grey the grade made."""
    doc = {"clips": [{"url": media["tint"], "trim_end": 1, "color_preset": "warm"}],
           "grade": {"saturation": 0}}  # fmt: skip
    r, _, b = colour(frame_at((await render_doc(doc)).video, 0.5))
    assert r - b > 15


@pytest.mark.parametrize(
    ("name", "clip"), [("Colour_Correct.cube", "tint"), ("Three_Dimensional_Table.cube", "blue")]
)
async def test_a_real_lut_draws_what_ffmpeg_draws_from_the_original_file(
    render_doc: Render, media: dict[str, Path], name: str, clip: str, tmp_path: Path
) -> None:
    """Our parsed and rewritten copy draws what FFmpeg's lut3d draws reading the file itself,
    applied to the same ungraded render."""
    lut = LUTS / name
    graded = await render_doc(
        {"clips": [{"url": media[clip], "trim_end": 1}], "grade": {"lut_url": lut.as_uri()}}
    )
    ungraded = await render_doc({"clips": [{"url": media[clip], "trim_end": 1}]})
    direct = tmp_path / "direct.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(ungraded.video), "-vf",
         f"lut3d=file={lut}:interp=tetrahedral", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", str(direct)],
        check=True, timeout=60,
    )  # fmt: skip
    ours, theirs = colour(frame_at(graded.video, 0.5)), colour(frame_at(direct, 0.5))
    before = colour(frame_at(ungraded.video, 0.5))
    assert near(ours, theirs, 4), (before, ours, theirs)
    assert not near(ours, before, 6)  # the LUT did change the colour


def test_a_graded_render_ready_clip_is_encoded_not_copied(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A render-ready clip cut on its GOPs is copied whole when nothing is drawn on it
    (test_smart_render.py::test_a_composition_copied_whole_encodes_no_video); graded, it is
    encoded: copied frames would be ungraded."""
    clip = make_render_ready(tmp_path / "ready.mp4", source="color=c=0xA06070", seconds=2)
    doc = {"clips": [{"url": clip.as_uri(), "trim_end": 2}], "grade": {"saturation": 0},
           "output": {"resolution": "720p", "preset": "veryfast"}}  # fmt: skip
    out = tmp_path / "graded.mp4"
    result = asyncio.run(
        render(
            parse_composition(doc),
            make_settings(X264_PRESET="veryfast"),
            video_out=out,
            thumbnail_out=out.with_suffix(".jpg"),
        )
    )
    assert result.smart == {"applied": False, "reason": "only 0% of the frames could be copied"}
    r, g, b = frame_at(result.video, 1.0).mean((500, 300, 780, 420))
    assert max(r, g, b) - min(r, g, b) <= 3
