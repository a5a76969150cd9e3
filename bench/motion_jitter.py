"""Motion smoothness: frame-to-frame movement of a dot under a slow zoom, per filter chain.

    .venv/bin/python -m bench.motion_jitter

A white dot off-centre on black is zoomed into by 10% over 4 s at 30 fps (640x360): the dot
drifts outwards by ~0.15 px a frame. Each chain's frames are decoded raw (no encoder noise), the
dot's intensity-weighted centroid is found per frame, and the steps between frames are compared
with a straight line fitted to them (a zoom's steps grow smoothly): `jitter` is the RMS of that
residual in pixels, `stalls` the frames where the dot moved less than a quarter of its mean step,
and `s` the wall seconds for 720p (1280x720, the same zoom) as the cost.
"""

from __future__ import annotations

import array
import itertools
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vidsvc.graph.escape import filter_args
from vidsvc.graph.motion import window

FPS, SECONDS, AMOUNT = 30, 4, 0.1
FRAMES = FPS * SECONDS


def chains(w: int, h: int) -> dict[str, str]:
    left, top, right, bottom = window("zoom_in", AMOUNT, FRAMES)
    corners = {"x0": left, "y0": top, "x1": right, "y1": top,
               "x2": left, "y2": bottom, "x3": right, "y3": bottom}  # fmt: skip
    args = (*tuple(corners.items()), ("interpolation", "linear"), ("eval", "frame"))
    perspective = f"perspective={filter_args(args)}"  # the chain motion.move() builds
    zoom = f"1+{AMOUNT}*on/{FRAMES - 1}"
    zoompan = (
        f"zoompan=z='{zoom}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s={w}x{h}:fps={FPS}"
    )
    return {
        "zoompan": zoompan,
        "zoompan, 4x oversampled": f"scale={4 * w}:{4 * h}:flags=bicubic,{zoompan}",
        "perspective (vidsvc)": perspective,
    }


def _run(chain: str, w: int, h: int, dot: Path, raw: bool) -> tuple[bytes, float]:
    loop = f"loop=loop={FRAMES - 1}:size=1:start=0,setpts=N/({FPS}*TB),"
    argv = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(dot), "-filter_complex",
            f"[0:v]scale={w}:{h},{loop}{chain},format=gray[o]", "-map", "[o]",
            "-frames:v", str(FRAMES)]  # fmt: skip
    argv += ["-f", "rawvideo", "-"] if raw else ["-f", "null", "-"]
    started = time.monotonic()
    out = subprocess.run(argv, check=True, capture_output=True, timeout=600).stdout
    return out, time.monotonic() - started


def centroids(raw: bytes, w: int, h: int) -> list[float]:
    xs: list[float] = []
    for i in range(len(raw) // (w * h)):
        frame = array.array("B", raw[i * w * h : (i + 1) * w * h])
        total = weighted = 0.0
        for y in range(h // 8, h // 2):  # the dot's quadrant only
            row = frame[y * w : y * w + w // 2]
            for x, v in enumerate(row):
                if v > 40:
                    total += v
                    weighted += v * x
        xs.append(weighted / total)
    return xs


def measure(xs: list[float]) -> dict[str, float]:
    steps = [abs(b - a) for a, b in itertools.pairwise(xs)]
    n = len(steps)
    mx, my = (n - 1) / 2, sum(steps) / n
    slope = sum((i - mx) * (s - my) for i, s in enumerate(steps)) / sum(
        (i - mx) ** 2 for i in range(n)
    )
    residual = [s - (my + slope * (i - mx)) for i, s in enumerate(steps)]
    return {
        "mean_step": my,
        "jitter": math.sqrt(sum(r * r for r in residual) / n),
        "stalls": sum(1 for s in steps if s < my / 4),
        "backwards": sum(1 for a, b in itertools.pairwise(xs) if b > a + 1e-6),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dot = Path(tmp) / "dot.png"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=640x360", "-vf",
             "geq=lum='255*lt(hypot(X-160,Y-90),6)':cb=128:cr=128", "-frames:v", "1",
             str(dot)], check=True)  # fmt: skip
        print("| chain | mean step (px) | jitter RMS (px) | stalls | 720p 4 s (s) |")
        print("|---|---|---|---|---|")
        for name, chain in chains(640, 360).items():
            raw, _ = _run(chain, 640, 360, dot, raw=True)
            m = measure(centroids(raw, 640, 360))
            _, cost = _run(chains(1280, 720)[name], 1280, 720, dot, raw=False)
            print(f"| {name} | {m['mean_step']:.3f} | {m['jitter']:.3f} | "
                  f"{m['stalls']:.0f} | {cost:.2f} |")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
