"""A split render on one machine (graph/split.py, work/compositions/split.py) against one pass
of the same composition: the same frame count and timestamps, every frame near-identical (the
parts are encoded apart, so not bit-identical: PSNR), the seams included, and the sound
bit-identical (it is the one mix, encoded once).

The composition: tests/support/split_doc.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.compare import frame_count, frames, psnr
from tests.support.split_doc import long_document, pcm_md5, pts
from vidsvc.config import Settings
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render
from vidsvc.work.compositions.split import THUMB_OUT, prepare_split, run_split

pytestmark = pytest.mark.ffmpeg


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    doc = long_document(tmp_path_factory.mktemp("split"))
    doc["output"]["thumbnail_time"] = 31.3  # in the middle part: its own thumbnail shows it
    return doc


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
    assert pts(out) == pts(one)
    picked = sorted({0, total - 1, *(s + d for s in seams for d in (-2, -1, 0, 1, 2))})
    ours, theirs = frames(out, picked), frames(one, picked)
    for n in picked:
        assert psnr(ours[n], theirs[n]) >= 40, n
    assert pcm_md5(out) == pcm_md5(one)
    # the thumbnail is the whole's frame, made by the part that holds it (not part 0's)
    assert job.thumbnail == 1
    shown = work / THUMB_OUT.format(index=job.thumbnail)
    assert psnr(frames(shown, [0])[0], frames(tmp_path / "one.jpg", [0])[0]) >= 40
