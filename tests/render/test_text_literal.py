"""Overlay text is drawn exactly as given (RELIABILITY.md S1, S2, B9).

Oracle: a reference frame drawn by a hand-written FFmpeg command from the same bytes in a text
file with `expansion=none`. Ours must match it closely, and must clearly differ from the frame of
a slightly different text, so a dropped or altered character cannot pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.render.conftest import Render
from tests.support.media import FAST, Frame, ffmpeg, frame_at

pytestmark = pytest.mark.ffmpeg
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
STYLE = {"size": 22, "color": "white"}


@pytest.fixture(scope="module")
def gray(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "gray.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x808080:s=320x180:r=10:d=1", *FAST, str(path))
    return path


def reference(tmp_path: Path, text: str) -> Frame:
    """The same text drawn by a plain FFmpeg command (textfile, expansion=none)."""
    (tmp_path / "ref.txt").write_text(text, encoding="utf-8")
    drawtext = (
        f"drawtext=fontfile={FONT}:textfile={tmp_path}/ref.txt:expansion=none:fontsize=22:"
        "fontcolor=0xFFFFFFFF:x=(w-text_w)/2:y=(h-text_h)/2:fix_bounds=1"
    )
    out = tmp_path / "ref.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=0x808080:s=320x180:r=10:d=1",
        "-vf",
        drawtext,
        *FAST,
        str(out),
    )
    return frame_at(out, 0.5)


async def drawn(render_doc: Render, gray: Path, text: str) -> tuple[Frame, tuple[str, ...]]:
    result = await render_doc(
        {"clips": [{"url": gray}], "overlays": [{"content": text, "style": STYLE}]}
    )
    return frame_at(result.video, 0.5), result.argv


CANARY = "/tmp/vidsvc-canary-must-not-be-read"
TEXTS = {
    "specials": ("it's: 100% {ok} [a], b; c\\d", "its 100 ok a b cd"),
    "quotes": ("\"double\" and 'single' quotes", "double and single quotes"),
    "cyrillic_greek": ("Привет, мир — Γειά σου", "Привет мир Γειά"),
    "expansion": ("%{eif:7*6:d}", "42"),
    "localtime": ("%{localtime} %{pts}", "localtime pts"),
    "breakout_filter": (f"x',drawtext=textfile={CANARY}:y=0,null='", "x"),
    "breakout_label": (f"x'[out];movie={CANARY}[m];[out][m]overlay", "x out"),
}


@pytest.mark.parametrize("case", list(TEXTS))
async def test_text_renders_literally(
    render_doc: Render, gray: Path, tmp_path: Path, case: str
) -> None:
    text, other = TEXTS[case]
    ours, argv = await drawn(render_doc, gray, text)
    same = ours.diff(reference(tmp_path, text))
    different = ours.diff(reference(tmp_path, other))
    assert same < 1.0, (case, same)
    assert different > 3 * same + 0.3, (case, same, different)
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.count("drawtext=") == 1 and "movie=" not in graph and CANARY not in graph
    assert not Path(CANARY).exists()


async def test_newlines_render_as_line_breaks(
    render_doc: Render, gray: Path, tmp_path: Path
) -> None:
    ours, _ = await drawn(render_doc, gray, "top\r\nbottom")
    assert ours.diff(reference(tmp_path, "top\nbottom")) < 1.0
    assert ours.diff(reference(tmp_path, "top bottom")) > 1.0
