"""A split render on one machine (graph/split.py, work/compositions/split.py) against one pass
of the same composition: the same frame count and timestamps, every frame near-identical (the
parts are encoded apart, so not bit-identical: PSNR), the seams included, and the sound
bit-identical (it is the one mix, encoded once).

The composition: tests/support/split_doc.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.compare import frame_count, frames, psnr
from tests.support.media import make_tone, probe, stream
from tests.support.split_doc import long_document, pcm_md5, pts
from vidsvc.config import Settings
from vidsvc.graph.compile import output_name
from vidsvc.graph.splice import AUDIO_OUT
from vidsvc.graph.split import PART_OUT, THUMB_OUT, Part, Sizing, Split, thumb_file
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.facts import encoding
from vidsvc.work.compositions.render import render
from vidsvc.work.compositions.split import prepare_split, run_split
from vidsvc.work.compositions.split_join import BadParts, join

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
    job = await prepare_split(comp, settings, work, Sizing(chunk_ms=20_000, max_parts=4))
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


def _part(path: Path, *extra: str) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=d=1:r=10:s=64x64",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *extra, str(path)],
        check=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "bad"),
    [("other parameter sets", (1,)), ("missing", (2,)), ("short", (0,)), ("no sound", (-1,))],
)
async def test_the_join_names_the_parts_that_do_not_join(
    make_settings: Callable[..., Settings], tmp_path: Path, fault: str, bad: tuple[int, ...]
) -> None:
    """Three 1 s parts and a sound: the join refuses with BadParts naming the odd one, so the
    service renders that part alone again (parts/join.py)."""
    thirds = tuple(Part(index=k, first=10 * k, end=10 * k + 10) for k in range(3))
    split = Split(fps=10, frames=30, gop=10, parts=thirds)
    for k in range(3):
        extra = ("-x264-params", "ref=4") if (fault, k) == ("other parameter sets", 1) else ()
        if (fault, k) == ("short", 0):
            extra = ("-frames:v", "7")
        if (fault, k) != ("missing", 2):
            _part(tmp_path / PART_OUT.format(index=k), *extra)
    if fault != "no sound":
        make_tone(tmp_path / "tone.wav", seconds=3)
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "tone.wav"), "-c:a", "aac",
                        str(tmp_path / AUDIO_OUT)], check=True)  # fmt: skip
    comp = parse_composition({"clips": [{"url": "file:///x.mp4"}], "output": {"fps": 10}})
    enc = encoding(comp, make_settings(), 3000, 0)
    with pytest.raises(BadParts) as caught:
        await join(split, enc, make_settings(), tmp_path)
    assert caught.value.parts == bad


async def test_a_split_render_makes_every_rendition_from_one_decode_per_part(
    document: dict[str, Any], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """output.renditions split: each part renders every shape of its range from one decode (a
    file each), the sound is made once, and each rendition is joined apart from its parts'
    files: every one the one pass's rendition, frame for frame, its sound bit for bit."""
    settings = make_settings()
    shapes = [{"aspect_ratio": "16:9"}, {"aspect_ratio": "9:16", "fit": "cover"}]
    comp = parse_composition({**document, "output": {**document["output"], "renditions": shapes}})
    one = await render(comp, settings, video_out=tmp_path / "one.mp4",
                       thumbnail_out=tmp_path / "one.jpg")  # fmt: skip
    work = tmp_path / "split"
    work.mkdir()
    job = await prepare_split(comp, settings, work, Sizing(chunk_ms=20_000, max_parts=4))
    assert len(job.split.parts) == 3 and job.renditions == 2
    runs = await run_split(job, settings, work)
    assert len(runs) == 6  # the sound, three parts (each every shape), a join per rendition
    seams = [p.first for p in job.split.parts[1:]]
    picked = sorted({0, job.split.frames - 1, *(s + d for s in seams for d in (-1, 0, 1))})
    for n, made in enumerate(one.renditions):
        out = work / output_name(job.encoding.video_out, n)
        assert frame_count(out) == frame_count(made.video) == job.split.frames, n
        assert pts(out) == pts(made.video)
        ours, theirs = frames(out, picked), frames(made.video, picked)
        assert all(psnr(ours[k], theirs[k]) >= 40 for k in picked), n
        assert pcm_md5(out) == pcm_md5(made.video)
        video = stream(probe(out), "video")
        assert (video["width"] < video["height"]) == (n == 1)  # the portrait shape is second
        shown = work / thumb_file(job.thumbnail, n)  # the part holding the frame, each shape
        assert psnr(frames(shown, [0])[0], frames(made.thumbnail, [0])[0]) >= 40
