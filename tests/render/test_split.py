"""A split render on one machine (graph/split.py, work/compositions/split.py) against one pass
of the same composition: the same frame count and timestamps, every frame near-identical (the
parts are encoded apart, so not bit-identical: PSNR), the seams included, and the sound
bit-identical (it is the one mix, encoded once).

A 62 s composition at 180p and 10 fps, near-losslessly encoded (CRF 8) so a frame's PSNR says
which frame it is: ten clips of distinct moving pictures, crossfades into every other clip (so
a boundary has a hard cut to move to), a text overlay and a caption across the boundaries, and
music.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.compare import frame_count, frames, psnr
from tests.support.media import make_tone, make_video
from tests.support.render_doc import _as_urls
from vidsvc.config import Settings
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render
from vidsvc.work.compositions.split import prepare_split, run_split

pytestmark = pytest.mark.ffmpeg

PICTURES = ["testsrc2", "smptehdbars", "rgbtestsrc", "testsrc", "yuvtestsrc"]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("split")
    sources = [
        make_video(root / f"c{i}.mp4", size="320x180", rate=25, seconds=6.5,
                   source=PICTURES[i % 5], tone=200 + 40 * i, extra=("-vf", f"hue=h={i * 36}"))
        for i in range(10)
    ]  # fmt: skip
    clips: list[dict[str, Any]] = []
    for i, source in enumerate(sources):
        clip: dict[str, Any] = {"url": source, "trim_end": 6.5 if i % 2 else 6.0}
        if i % 2:
            clip |= {"transition_in": "crossfade", "transition_duration": 0.5}
        clips.append(clip)
    return _as_urls({
        "clips": clips,
        "overlays": [{"type": "text", "content": "Across the seams", "start_time": 15,
                      "duration": 35}],
        "captions": {"cues": [{"start": 18, "end": 45, "text": "a caption over two parts"}]},
        "audio": {"music_url": make_tone(root / "music.wav", seconds=70, volume=0.3)},
        "output": {"resolution": "180p", "fps": 10, "crf": 8, "preset": "ultrafast"},
        "cache": False,
    })  # fmt: skip


def _pcm_md5(path: Path) -> str:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return hashlib.md5(raw).hexdigest()


def _pts(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
         "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # a part's first frame carries x264's SEI (its side data: one more csv field)
    return [line.split(",")[0] for line in out.split()]


async def test_a_split_render_is_the_one_pass_frame_for_frame(
    document: dict[str, Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    comp = parse_composition(document)
    one = tmp_path / "one.mp4"
    await render(comp, settings, video_out=one, thumbnail_out=tmp_path / "one.jpg")
    work = tmp_path / "split"
    work.mkdir()
    job = await prepare_split(comp, settings, work, chunk_ms=20_000, max_parts=4)
    assert len(job.split.parts) == 3
    seams = [p.first for p in job.split.parts[1:]]
    assert all(s % job.split.gop == 0 for s in seams)  # an IDR on the grid at every seam
    runs = await run_split(job, settings, work)
    assert len(runs) == 5  # the sound, three parts, the join
    out = work / job.encoding.video_out
    total = frame_count(one)
    assert frame_count(out) == total == job.split.frames
    assert _pts(out) == _pts(one)
    picked = sorted({0, total - 1, *(s + d for s in seams for d in (-2, -1, 0, 1, 2))})
    ours, theirs = frames(out, picked), frames(one, picked)
    for n in picked:
        assert psnr(ours[n], theirs[n]) >= 40, n
    assert _pcm_md5(out) == _pcm_md5(one)
