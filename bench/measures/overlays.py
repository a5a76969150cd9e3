"""What do layers cost: a vertical composition through vidsvc against its own graph run bare,
`blur` and motion against `contain` and none, and how smoothly a slow zoom moves per filter.

The composition (720x1280, 30 fps): four stills with motion (JPEG, PNG, WebP), a horizontal clip
in `blur`, a logo, music. Contenders per variant: `vidsvc render` (the CLI: start-up, staging,
ffprobe, compile, FFmpeg) and the argv vidsvc compiled, run bare by FFmpeg
(bench.contenders.bare): the same graph as one raw command. Variants change one thing: every
`blur` becomes `contain`, or every motion becomes `none`. Wall and CPU seconds are medians; CPU
barely moves with other load.

Motion smoothness: a white dot off-centre on black is zoomed into by 10% over 4 s at 30 fps
(640x360): the dot drifts outwards by ~0.15 px a frame. Each filter chain's frames are decoded
raw (no encoder noise), the dot's intensity-weighted centroid is found per frame, and the steps
between frames are compared with a straight line fitted to them (a zoom's steps grow
smoothly): `jitter` is the RMS of that residual in pixels, `stalls` the frames where the dot
moved less than a quarter of its mean step, and the cost the wall seconds of the same zoom at
720p.
"""

from __future__ import annotations

import array
import itertools
import json
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import seams
from bench.contenders.bare import compile_reference
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.timing import Contender, timed
from sample_specs.media import ensure, sample_assets

ROOT = Path(__file__).resolve().parents[2]
FPS, ZOOM_SECONDS, AMOUNT = 30, 4, 0.1
FRAMES = FPS * ZOOM_SECONDS
VARIANTS = ("vertical (blur, motion)", "contain instead of blur", "no motion")


def composition(media: Path, seconds: float, preset: str) -> dict[str, Any]:
    """The vertical sample's shape, stretched to `seconds` (four stills, one blur clip)."""
    part = seconds / 5
    crossfade = {"transition_in": "crossfade", "transition_duration": 0.5}
    return {
        "clips": [
            {"url": str(media / "still_city.jpg"), "duration": part, "fit": "cover",
             "motion": "zoom_in", "motion_amount": 0.15},
            {"url": str(media / "clip_a.mp4"), "trim_end": min(part, 6), "fit": "blur",
             **crossfade},
            {"url": str(media / "still_portrait.png"), "duration": part + 0.5,
             "motion": "pan_up", **crossfade},
            {"url": str(media / "still_square.webp"), "duration": part + 0.5, "fit": "blur",
             "motion": "zoom_out", **crossfade},
            {"url": str(media / "still_city.jpg"), "duration": seconds - 4 * part + 0.5,
             "fit": "blur", "motion": "pan_left", **crossfade},
        ],
        "overlays": [
            {"type": "image", "url": str(media / "logo.png"),
             "position": {"x": "right", "y": "top"}, "width": 120, "opacity": 0.85},
        ],
        "audio": {"music_url": str(media / "music.mp3"), "music_volume": 0.6},
        "output": {"resolution": "720p", "aspect_ratio": "9:16", "fps": 30, "preset": preset},
    }  # fmt: skip


def variant(doc: dict[str, Any], name: str) -> dict[str, Any]:
    clips = [dict(c) for c in doc["clips"]]
    for clip in clips:
        if name == "contain instead of blur" and clip.get("fit") == "blur":
            clip["fit"] = "contain"
        if name == "no motion":
            clip.pop("motion", None)
    return {**doc, "clips": clips}


def race(spec: Path, work: Path, preset: str, runs: int) -> dict[str, float]:
    compiled = compile_reference(spec, work / "bare", preset)
    cli = [str(ROOT / ".venv" / "bin" / "vidsvc"), "render", str(spec), str(work / "cli.mp4")]
    contenders = [
        Contender("vidsvc render", cli, work / "cli.mp4", work),
        Contender("vidsvc argv bare", compiled.argv, compiled.output, compiled.work),
    ]
    for _ in range(runs):
        for c in contenders:
            timed(c, work)
    cli_c, bare_c = contenders
    return {
        "cli_wall": statistics.median(cli_c.times),
        "bare_wall": statistics.median(bare_c.times),
        "cli_cpu": statistics.median(cli_c.cpu),
        "bare_cpu": statistics.median(bare_c.cpu),
    }


def layers(ctx: Context, opts: Options) -> list[str]:
    seconds, preset, runs = opts.number("seconds"), opts.text("preset"), opts.integer("runs")
    media = ROOT / "sample_specs" / "media"
    ensure(sample_assets(), media)
    os.environ["ALLOWED_LOCAL_DIRS"] = str(media)
    out = ctx.out / "layers"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    doc = composition(media, seconds, preset)
    lines = [f"| {seconds:g} s 720x1280, {preset} | vidsvc render (s) | same argv bare (s) "
             "| wall ratio | CPU render / bare (s) |", "|---|---|---|---|---|"]  # fmt: skip
    for name in VARIANTS:
        work = out / name.replace(" ", "_").replace("(", "").replace(")", "").replace(",", "")
        work.mkdir()
        spec = work / "spec.json"
        spec.write_text(json.dumps(variant(doc, name)))
        m = race(spec, work, preset, runs)
        wall = m["cli_wall"] / m["bare_wall"]
        cpu = m["cli_cpu"] / m["bare_cpu"]
        lines.append(f"| {name} | {m['cli_wall']:.2f} | {m['bare_wall']:.2f} | {wall:.3f} | "
                     f"{m['cli_cpu']:.1f} / {m['bare_cpu']:.1f} = {cpu:.3f} |")  # fmt: skip
        print(f"  {lines[-1]}", flush=True)
    return [f"Medians of {runs} run(s) each.", "", *lines]


def chains(w: int, h: int) -> dict[str, str]:
    zoom = f"1+{AMOUNT}*on/{FRAMES - 1}"
    zoompan = (
        f"zoompan=z='{zoom}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s={w}x{h}:fps={FPS}"
    )
    return {
        "zoompan": zoompan,
        "zoompan, 4x oversampled": f"scale={4 * w}:{4 * h}:flags=bicubic,{zoompan}",
        "perspective (vidsvc)": seams.zoom_perspective(AMOUNT, FRAMES),
    }


def _zoom(chain: str, w: int, h: int, dot: Path, raw: bool) -> tuple[bytes, float]:
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


def steadiness(xs: list[float]) -> dict[str, float]:
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


def motion() -> list[str]:
    lines = ["| chain | mean step (px) | jitter RMS (px) | stalls | 720p 4 s (s) |",
             "|---|---|---|---|---|"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        dot = Path(tmp) / "dot.png"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=640x360", "-vf",
             "geq=lum='255*lt(hypot(X-160,Y-90),6)':cb=128:cr=128", "-frames:v", "1",
             str(dot)], check=True)  # fmt: skip
        for name, chain in chains(640, 360).items():
            raw, _ = _zoom(chain, 640, 360, dot, raw=True)
            m = steadiness(centroids(raw, 640, 360))
            _, cost = _zoom(chains(1280, 720)[name], 1280, 720, dot, raw=False)
            lines.append(f"| {name} | {m['mean_step']:.3f} | {m['jitter']:.3f} | "
                         f"{m['stalls']:.0f} | {cost:.2f} |")  # fmt: skip
            print(f"  {lines[-1]}", flush=True)
    return lines


def run(ctx: Context, opts: Options) -> list[Section]:
    lines = [*layers(ctx, opts), "", "### Motion smoothness: a 10% zoom over 4 s", "", *motion()]
    return [Section("overlays", MEASURE.question, lines)]


MEASURE = Measure(
    name="overlays",
    question="what do a vertical composition, `blur` and motion cost, and how smooth is a zoom?",
    takes="about 2 minutes (3 variants × 2 contenders × 30 s at veryfast; the zoom: 20 s)",
    quick_note="6 s at ultrafast: about 40 s (most of it the zoom's pixel counting)",
    run=run,
    defaults={"seconds": 30.0, "preset": "veryfast", "runs": 1},
    quick={"seconds": 6.0, "preset": "ultrafast"},
)
