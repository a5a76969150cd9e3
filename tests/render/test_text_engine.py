"""The libass text engine (issue 11): scripts read back by OCR, wrapping inside the frame,
missing glyphs reported, the escaping table.

Renders are 360p, one second, white text on black: small, but large enough for tesseract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.media import FAST, Frame, ffmpeg, frame_at
from tests.support.render_doc import Render
from tests.support.textpix import ink, need_tesseract, ocr
from vidsvc.graph.ass import WORD_JOINER, escape_text
from vidsvc.media.coverage import missing, parse_charsets

W, H = 640, 360
MARGIN = 18  # layout.SAFE_MARGIN of the short side at 360p


@pytest.fixture(scope="module")
def black(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", f"color=c=black:s={W}x{H}:r=10:d=1", *FAST, str(path))
    return path


async def draw(render_doc: Render, black: Path, overlay: dict[str, Any]) -> Frame:
    result = await render_doc(
        {
            "clips": [{"url": black}],
            "overlays": [overlay],
            "output": {"resolution": "360p", "fps": 10},
        }
    )
    return frame_at(result.video, 0.5)


def read(frame: Frame, tmp_path: Path, lang: str, *, psm: int = 7) -> str:
    """OCR of the frame as black text on white (tesseract reads that best)."""
    image = tmp_path / f"frame-{lang}.ppm"
    image.write_bytes(
        f"P6 {frame.width} {frame.height} 255\n".encode() + bytes(255 - b for b in frame.rgb)
    )
    return ocr(image, lang, psm=psm)


# -- literal text: the escaping table -----------------------------------------------------------

ESCAPES = [
    ("{", "\\{"),
    ("}", "\\}"),
    ("\\", "\\" + WORD_JOINER),
    ("\n", "\\N"),
    ("\r\n", "\\N"),
    ("\\N", "\\" + WORD_JOINER + "N"),
    ("\\h", "\\" + WORD_JOINER + "h"),
    ("\\{", "\\" + WORD_JOINER + "\\{"),
    (",", ","),
    ("a", "a"),
    ("%", "%"),
    ("'", "'"),
    ("नमस्ते", "नमस्ते"),
]


@pytest.mark.parametrize(("text", "escaped"), ESCAPES)
def test_escape_table(text: str, escaped: str) -> None:
    """N1: every ASS-special character and sequence has one literal form."""
    assert escape_text(text) == escaped


# -- any script, read back ----------------------------------------------------------------------

SCRIPTS = [
    ("chi_sim", "你好世界"),
    ("hin", "नमस्ते"),  # the conjunct स्त must be shaped: drawtext drew "नमसूते"
    ("ara", "مرحبا بالعالم"),
]


@pytest.mark.ffmpeg
@pytest.mark.parametrize(("lang", "text"), SCRIPTS, ids=[lang for lang, _ in SCRIPTS])
async def test_scripts_are_shaped_and_read_back(
    render_doc: Render, black: Path, tmp_path: Path, lang: str, text: str
) -> None:
    need_tesseract(lang)
    frame = await draw(render_doc, black, {"content": text, "style": {"size": 64}})
    got = read(frame, tmp_path, lang)
    assert got.replace(" ", "") == text.replace(" ", ""), got


# -- layout: wrapped, inside the frame ----------------------------------------------------------

LONG = (
    "This caption is far too long for one line of a small video, so the text engine "
    "must wrap it onto several lines that all stay inside the frame and remain readable"
)


@pytest.mark.ffmpeg
async def test_a_long_caption_wraps_inside_the_frame_and_reads_whole(
    render_doc: Render, black: Path, tmp_path: Path
) -> None:
    need_tesseract("eng")
    frame = await draw(
        render_doc,
        black,
        {"content": LONG, "position": {"x": "center", "y": "bottom"}, "style": {"size": 26}},
    )
    box = ink(frame).box
    assert box is not None
    x0, y0, x1, y1 = box
    assert MARGIN - 2 <= x0 and x1 <= W - MARGIN + 2, box  # inside the safe margins
    assert y1 <= H - MARGIN + 8 and y1 - y0 > 3 * 26, box  # several lines, above the margin
    words = read(frame, tmp_path, "eng", psm=6).split()
    assert words == LONG.split(), words


@pytest.mark.ffmpeg
async def test_chinese_without_spaces_wraps_inside_the_frame(
    render_doc: Render, black: Path
) -> None:
    """libass 0.17.1 breaks only at spaces: the breaks come from UAX #14 (uniseg)."""
    text = "这是一个很长的中文句子用来测试自动换行是否在没有空格的情况下也能正常工作"
    frame = await draw(render_doc, black, {"content": text, "style": {"size": 40}})
    box = ink(frame).box
    assert box is not None
    x0, y0, x1, y1 = box
    assert MARGIN - 2 <= x0 and x1 <= W - MARGIN + 2, box
    assert y1 - y0 > 2 * 40 * 0.8, box  # more than one line


@pytest.mark.ffmpeg
async def test_max_width_and_align(render_doc: Render, black: Path) -> None:
    """style.max_width narrows the column; align right lines the text up on its right edge."""
    style = {"size": 24, "max_width": 200, "align": "right"}
    frame = await draw(
        render_doc, black, {"content": "one two three four five six seven", "style": style}
    )
    box = ink(frame).box
    assert box is not None
    x0, _, x1, _ = box
    assert x1 - x0 <= 200 and abs(x1 - (W // 2 + 100)) <= 4, box


@pytest.mark.ffmpeg
async def test_a_box_is_one_rectangle_behind_every_line(render_doc: Render, black: Path) -> None:
    """A translucent box behind two lines of unequal length is one even rectangle (libass'
    BorderStyle 4), as drawtext's was: no bare corner beside the short line, no darker band
    where per-line boxes would overlap."""
    style = {"size": 30, "box": True, "box_color": "#FFFFFF80", "box_padding": 8}
    frame = await draw(render_doc, black, {"content": "WWWWWWWWWW\nii", "style": style})
    box = ink(frame).box
    assert box is not None
    x0, y0, x1, y1 = box
    assert x1 - x0 > 150 and y1 - y0 > 2 * 30, box  # both lines inside one box
    column = [frame.pixel(x0 + 4, y)[0] for y in range(y0 + 2, y1 - 2)]  # beside the text
    assert all(100 < v < 160 for v in column), column  # half-white all the way down
    corner = frame.mean((x1 - 12, y1 - 10, x1 - 4, y1 - 3))  # beside the short line
    assert 100 < corner[0] < 160, corner


# -- missing glyphs are reported ----------------------------------------------------------------


def test_charsets_merge_and_lookup() -> None:
    ranges = parse_charsets("20-7e a0\n41-5a 100-17f 80-9f\nzz")
    assert ranges == ([0x20, 0x80, 0x100], [0x7E, 0xA0, 0x17F])
    assert missing(["aé\u0101\u200d \U0010fffd"], ranges) == ["é", "\U0010fffd"]


@pytest.mark.ffmpeg
async def test_missing_glyphs_are_in_the_result(render_doc: Render, black: Path) -> None:
    result = await render_doc(
        {
            "clips": [{"url": black}],
            "overlays": [{"content": "ok \U0010fffd 你好"}],
            "output": {"resolution": "180p", "fps": 10},
        }
    )
    assert result.text["missing_glyphs"] == [
        {"char": "\U0010fffd", "codepoint": "U+10FFFD", "name": ""}
    ]
    plain = await render_doc({"clips": [{"url": black}], "overlays": [{"content": "ok 你好 👋"}]})
    assert "missing_glyphs" not in plain.text


# -- animations ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def black2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "black2.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x180:r=20:d=2", *FAST, str(path))
    return path


async def animated(render_doc: Render, clip: Path, animation: str) -> tuple[Frame, Frame]:
    """Frames early in the animation (0.1 s) and after it (1.5 s)."""
    result = await render_doc(
        {
            "clips": [{"url": clip}],
            "overlays": [
                {"content": "Animated text", "animation": animation, "style": {"size": 30}}
            ],
            "output": {"resolution": "180p", "fps": 20},
        }
    )
    return frame_at(result.video, 0.1), frame_at(result.video, 1.5)


@pytest.mark.ffmpeg
async def test_pop_grows_into_place(render_doc: Render, black2: Path) -> None:
    early, late = (ink(f) for f in await animated(render_doc, black2, "pop"))
    assert 0 < early.width < 0.9 * late.width, (early, late)


@pytest.mark.ffmpeg
async def test_slide_up_rises_into_place(render_doc: Render, black2: Path) -> None:
    early, late = (ink(f) for f in await animated(render_doc, black2, "slide_up"))
    assert early.box and late.box and early.box[1] > late.box[1] + 3, (early, late)


@pytest.mark.ffmpeg
async def test_fade_starts_dim(render_doc: Render, black2: Path) -> None:
    early, late = await animated(render_doc, black2, "fade")
    box = ink(late).box
    assert box is not None
    assert sum(early.mean(box)) < 0.6 * sum(late.mean(box))


@pytest.mark.ffmpeg
async def test_typewriter_types_and_keeps_its_place(render_doc: Render, black2: Path) -> None:
    early, late = (ink(f) for f in await animated(render_doc, black2, "typewriter"))
    assert early.box and late.box, (early, late)
    assert early.width < 0.5 * late.width  # a few letters so far
    assert abs(early.box[0] - late.box[0]) <= 3  # the text does not move as it grows
