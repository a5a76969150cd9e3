"""Renditions on real renders: every shape of one composition from one FFmpeg run.

Each rendition is compared frame by frame (PSNR) with the same shape rendered alone, in one
graph and by parts (its pictures through the parts' pipe, stacked), and its text is read back
from its own frame: laid out for that frame, inside it, and legible (OCR).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.compare import frame_count, frames, psnr
from tests.support.media import ffmpeg, frame_at, make_video, probe, stream
from tests.support.render_doc import Render
from tests.support.textpix import ink, need_tesseract, ocr
from vidsvc.config import Settings
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render

pytestmark = pytest.mark.ffmpeg

SHAPES = [
    {"aspect_ratio": "16:9"},
    {"aspect_ratio": "9:16", "fit": "cover"},
    {"aspect_ratio": "1:1"},
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("renditions")
    pictures = ["testsrc2", "smptehdbars", "rgbtestsrc"]
    return [
        make_video(
            root / f"c{i}.mp4", size="320x180", rate=25, seconds=1.6, source=p, tone=300 + 100 * i
        )
        for i, p in enumerate(pictures)
    ]


def composition(sources: list[Path], **output: Any) -> dict[str, Any]:
    clips: list[dict[str, Any]] = [{"url": sources[0].as_uri()}]
    clips += [
        {"url": s.as_uri(), "transition_in": "crossfade", "transition_duration": 0.4}
        for s in sources[1:]
    ]
    return {
        "clips": clips,
        "overlays": [
            {
                "type": "text",
                "content": "Shapes",
                "start_time": 0,
                "duration": 4,
                "style": {"size": 40},
            },
        ],
        "output": {"resolution": "180p", "fps": 25, "crf": 10, **output},
        "cache": False,
    }


async def rendered(document: dict[str, Any], settings: Settings, out: Path) -> list[Path]:
    result = await render(
        parse_composition(document), settings, video_out=out, thumbnail_out=out.with_suffix(".jpg")
    )
    return [r.video for r in result.renditions]


@pytest.mark.parametrize("part_clips", ["0", "2"])  # one graph; parts of two clips (stacked)
async def test_every_rendition_is_its_shape_rendered_alone(
    sources: list[Path], make_settings: Callable[..., Settings], tmp_path: Path, part_clips: str
) -> None:
    settings = make_settings(RENDER_PART_CLIPS=part_clips)
    made = await rendered(composition(sources, renditions=SHAPES), settings, tmp_path / "all.mp4")
    assert len(made) == 3
    total = frame_count(made[0])
    picked = [0, 30, total // 2, total - 1]
    for number, shape in enumerate(SHAPES):
        alone = await rendered(
            composition(sources, **shape), settings, tmp_path / f"alone{number}.mp4"
        )
        assert frame_count(made[number]) == frame_count(alone[0]) == total
        ours, theirs = frames(made[number], picked), frames(alone[0], picked)
        for n in picked:
            assert psnr(ours[n], theirs[n]) >= 40, (number, n)


async def test_each_rendition_lays_its_text_out_for_its_own_frame(
    sources: list[Path], render_doc: Render, tmp_path: Path
) -> None:
    need_tesseract("eng")
    document = composition(sources, resolution="360p", renditions=SHAPES)
    flat = make_video(tmp_path / "flat.mp4", size="320x180", seconds=1, source="color=c=0x203040")
    document["clips"] = [{"url": str(flat)}]  # one colour behind the text
    document["overlays"] = [
        {"type": "text", "content": "Every shape at once", "start_time": 0, "duration": 1,
         "style": {"size": 56}},
    ]  # fmt: skip
    result = await render_doc(document)
    widths = []
    for made in result.renditions:
        info = stream(probe(made.video), "video")
        assert (info["width"], info["height"]) == (made.width, made.height)
        frame = frame_at(made.video, 0.5)
        box = ink(frame).box
        assert box is not None
        x0, y0, x1, y1 = box
        assert 0 < x0 and x1 < made.width - 1 and 0 < y0 and y1 < made.height - 1
        widths.append(x1 - x0)
        still = made.video.with_suffix(".png")
        crop = f"crop={x1 - x0 + 1}:{y1 - y0 + 1}:{x0}:{y0}"
        _still(made.video, still, crop)
        read = " ".join(ocr(still, "eng", psm=6).split())
        assert "Every" in read and "once" in read, read
        thumb = stream(probe(made.thumbnail), "video")
        assert thumb["width"] * made.height == thumb["height"] * made.width
    # the portrait frame wraps the line its landscape sibling keeps whole
    assert widths[1] < widths[0] * 0.75


def _still(video: Path, png: Path, crop: str) -> None:
    ffmpeg("-ss", "0.5", "-i", str(video), "-frames:v", "1", "-vf", crop, str(png))
