"""Motion on stills and videos: the picture moves every frame, monotonically and evenly."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest

from tests.support.media import ffmpeg
from tests.support.render_doc import Render

pytestmark = pytest.mark.ffmpeg

W, H = 320, 180


@pytest.fixture(scope="module")
def dot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A white dot left of and above the centre, on black."""
    path = tmp_path_factory.mktemp("motion") / "dot.png"
    shape = "geq=lum='255*lt(hypot(X-80,Y-45),5)':cb=128:cr=128"
    ffmpeg("-f", "lavfi", "-i", f"color=c=black:s={W}x{H}", "-vf", shape, "-frames:v", "1",
           str(path))  # fmt: skip
    return path


def centroids(video: Path) -> list[tuple[float, float]]:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    points = []
    for i in range(len(raw) // (W * H)):
        frame = raw[i * W * H : (i + 1) * W * H]
        total = sx = sy = 0.0
        for y in range(H):
            row = frame[y * W : (y + 1) * W]
            for x in range(W):
                v = row[x]
                if v > 60:
                    total, sx, sy = total + v, sx + v * x, sy + v * y
        points.append((sx / total, sy / total))
    return points


def assert_even(values: list[float]) -> None:
    """Every step goes the same way, and no step strays from the smooth trend by over 25%."""
    steps = [b - a for a, b in itertools.pairwise(values)]
    assert all(s < 0 for s in steps) or all(s > 0 for s in steps), steps
    mags = [abs(s) for s in steps]
    n, mean = len(mags), sum(mags) / len(mags)
    mid = (n - 1) / 2
    slope = sum((i - mid) * (m - mean) for i, m in enumerate(mags)) / sum(
        (i - mid) ** 2 for i in range(n)
    )
    worst = max(abs(m - (mean + slope * (i - mid))) for i, m in enumerate(mags))
    assert worst < 0.25 * mean, (worst, mean, mags)


async def test_zoom_in_moves_the_dot_outwards_monotonically_and_evenly(
    render_doc: Render, dot: Path
) -> None:
    result = await render_doc(
        {"clips": [{"url": dot, "duration": 2, "motion": "zoom_in", "motion_amount": 0.2}]}
    )
    points = centroids(result.video)
    assert len(points) == 20
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert abs(xs[0] - 80) < 1 and xs[-1] < 72  # 80 -> 160 - 80/0.8 = 60 at the end
    assert_even(xs)
    assert_even(ys)


async def test_zoom_out_and_pans_move_the_right_way(render_doc: Render, dot: Path) -> None:
    async def path(motion: str) -> list[tuple[float, float]]:
        clip = {"url": dot, "duration": 1, "motion": motion, "motion_amount": 0.2}
        return centroids((await render_doc({"clips": [clip]})).video)

    out = await path("zoom_out")
    assert out[0][0] < out[-1][0]  # towards the centre
    right = await path("pan_right")
    assert right[0][0] > right[-1][0] and abs(right[0][1] - right[-1][1]) < 0.5
    assert_even([p[0] for p in right])
    down = await path("pan_down")
    assert down[0][1] > down[-1][1] and abs(down[0][0] - down[-1][0]) < 0.5


async def test_motion_applies_to_videos_too(render_doc: Render, dot: Path, tmp_path: Path) -> None:
    video = tmp_path / "dot.mp4"
    ffmpeg("-loop", "1", "-i", str(dot), "-t", "1", "-r", "10", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video))  # fmt: skip
    result = await render_doc(
        {"clips": [{"url": video, "motion": "zoom_in", "motion_amount": 0.2}]}
    )
    xs = [p[0] for p in centroids(result.video)]
    assert_even(xs)
    assert xs[0] - xs[-1] > 5
