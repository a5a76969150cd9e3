"""A range on a long timeline (graph/window.py): 20 clips of 3 s, 58.5 s with three crossfades.

- Its cost follows the range: a 3 s range in the middle opens only the inputs of the two clips
  it needs, and its FFmpeg spends a fraction of the full render's CPU (user + system seconds
  from -benchmark: work done, not wall time) and writes only the range's frames.
- A range of more clips than RENDER_PART_CLIPS is made by parts (graph/parts.py) on the cut
  timeline, and is still the full render's frames and sound there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.compare import frame_count, frames, lag, pcm, psnr, rms_db
from tests.support.media import make_video
from vidsvc.config import Settings
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.prepared import RenderResult
from vidsvc.work.compositions.render import render

pytestmark = pytest.mark.ffmpeg

CLIPS, CLIP_MS, FPS = 20, 3000, 25
CROSSFADES = (5, 10, 15)  #: clips that crossfade in (0.5 s)
#: clips[i] starts 0.5 s earlier for every crossfade at or before it: 29 s for clips[10]
STARTS_MS = [CLIP_MS * i - 500 * sum(1 for c in CROSSFADES if c <= i) for i in range(CLIPS)]
TOTAL_MS = STARTS_MS[-1] + CLIP_MS  # 58.5 s


@dataclass(frozen=True)
class Long:
    sources: list[Path]
    root: Path
    full: RenderResult  #: in one FFmpeg (RENDER_PART_CLIPS=0): every input on one argv


def _settings(root: Path, **env: str) -> Settings:
    base = {
        "TMP_DIR": str(root / "work"),
        "ALLOWED_LOCAL_DIRS": "/",
        "X264_PRESET": "ultrafast",
        "JOB_TIMEOUT": "120",
        "RATE_LIMIT_PER_MINUTE": "0",
    }
    return Settings.from_env(base | env)


def _document(sources: list[Path], **output: Any) -> dict[str, Any]:
    clips = [
        {"url": s.as_uri()}
        | ({"transition_in": "crossfade", "transition_duration": 0.5} if i in CROSSFADES else {})
        for i, s in enumerate(sources)
    ]
    return {"clips": clips, "output": {"resolution": "360p", "fps": FPS, "crf": 12, **output}}


async def _render(settings: Settings, document: dict[str, Any], out: Path) -> RenderResult:
    return await render(
        parse_composition(document), settings, video_out=out, thumbnail_out=out.with_suffix(".jpg")
    )


@pytest.fixture(scope="module")
def long(tmp_path_factory: pytest.TempPathFactory) -> Long:
    root = tmp_path_factory.mktemp("range-long")
    sources = [
        make_video(
            root / f"s{i:02}.mp4",
            size="480x270",
            rate=FPS,
            seconds=CLIP_MS / 1000,
            source="testsrc2",
            tone=200 + 20 * i,
        )
        for i in range(CLIPS)
    ]
    one_graph = _settings(root, RENDER_PART_CLIPS="0")
    full = asyncio.run(_render(one_graph, _document(sources), root / "full.mp4"))
    assert full.duration_ms == TOTAL_MS
    return Long(sources=sources, root=root, full=full)


def _opened(argv: tuple[str, ...]) -> list[str]:
    return [argv[k + 1] for k, arg in enumerate(argv) if arg == "-i"]


def test_a_middle_range_opens_only_its_clips_and_costs_a_fraction_of_the_full_render(
    long: Long,
) -> None:
    settings = _settings(long.root, RENDER_PART_CLIPS="0")
    document = _document(long.sources, range={"start": 30, "duration": 3})
    middle = asyncio.run(_render(settings, document, long.root / "middle.mp4"))
    assert middle.duration_ms == 3000
    # every clip is opened twice, for its pictures and for its sound (graph/segments.py);
    # clips[i] is staged as in{i}.mp4
    full_inputs = _opened(long.full.argv)
    assert sorted(full_inputs) == sorted(f"in{i}.mp4" for i in range(CLIPS) for _ in "av")
    # [30, 33): clips[10] (29-32 s, its crossfade before the range) and clips[11] (32-35 s)
    assert sorted(_opened(middle.argv)) == ["in10.mp4", "in10.mp4", "in11.mp4", "in11.mp4"]
    assert middle.ffmpeg.last is not None and long.full.ffmpeg.last is not None
    assert middle.ffmpeg.last.frame == 75
    assert long.full.ffmpeg.last.frame == round(TOTAL_MS * FPS / 1000)
    range_cpu, full_cpu = middle.ffmpeg.cpu_s, long.full.ffmpeg.cpu_s
    assert range_cpu is not None and full_cpu is not None
    assert range_cpu < 0.4 * full_cpu, (range_cpu, full_cpu)


def test_a_range_of_more_clips_than_a_part_is_made_by_parts_as_the_full_render(
    long: Long,
) -> None:
    settings = _settings(long.root, RENDER_PART_CLIPS="8")
    start_ms, end_ms = 4500, 34_500  # clips[1] (3-6 s) to clips[11] (32-35 s): 11 clips
    document = _document(long.sources, range={"start": 4.5, "duration": 30})
    ranged = asyncio.run(_render(settings, document, long.root / "by-parts.mp4"))
    assert ranged.duration_ms == end_ms - start_ms
    assert _opened(ranged.argv) == ["sound.wav", "pictures.fifo"]  # made by parts
    first = round(start_ms * FPS / 1000)
    count = round(end_ms * FPS / 1000) - first
    assert frame_count(ranged.video) == count == 750
    # around each cut and crossfade of the range, and its two ends
    ks = sorted(
        {0, 1, count - 1}
        | {round(s * FPS / 1000) - first + d for s in STARTS_MS[2:12] for d in (-1, 0, 3)}
    )
    mine = frames(ranged.video, ks)
    theirs = frames(long.full.video, [first + k for k in ks] + [first + k + 1 for k in ks])
    scores = {k: round(psnr(mine[k], theirs[first + k]), 1) for k in ks}
    neighbours = [psnr(theirs[first + k], theirs[first + k + 1]) for k in ks]
    assert max(neighbours) < 36  # the test can fail: one frame off is far off
    assert min(scores.values()) >= 40, scores
    sound, reference = pcm(ranged.video), pcm(long.full.video, start_ms, end_ms - start_ms)
    assert abs(rms_db(sound) - rms_db(reference)) <= 0.5
    assert lag(reference, sound) == 0
