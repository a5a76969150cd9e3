"""Issue 12's measures: a vertical composition through vidsvc against its own graph run bare,
and what `blur` and motion cost against `contain` and none, in the same run.

    .venv/bin/python -m bench.layers [--seconds 30] [--preset veryfast] [--runs 1]

The composition (720x1280, 30 fps): four stills with motion (JPEG, PNG, WebP), a horizontal clip
in `blur`, a logo, music. Contenders per variant: `vidsvc render` (the CLI: start-up, staging,
ffprobe, compile, FFmpeg) and the argv vidsvc compiled, run bare by FFmpeg (bench.bare) — the
same graph as one raw command. Variants change one thing: every `blur` becomes `contain`, or
every motion becomes `none`. Wall and CPU seconds are medians; CPU barely moves with other load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bare import compile_reference
from bench.timing import Contender, time_once
from sample_specs.media import ensure, sample_assets

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


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


def measure(spec: Path, work: Path, preset: str, runs: int) -> dict[str, float]:
    compiled = compile_reference(spec, work / "bare", preset)
    cli = [str(ROOT / ".venv" / "bin" / "vidsvc"), "render", str(spec), str(work / "cli.mp4")]
    contenders = [
        Contender("vidsvc render", cli, work / "cli.mp4", work),
        Contender("vidsvc argv bare", compiled.argv, compiled.output, compiled.work),
    ]
    for _ in range(runs):
        for c in contenders:
            wall, cpu = time_once(c, work)
            c.times.append(wall)
            c.cpu.append(cpu)
    cli_c, bare_c = contenders
    return {
        "cli_wall": statistics.median(cli_c.times),
        "bare_wall": statistics.median(bare_c.times),
        "cli_cpu": statistics.median(cli_c.cpu),
        "bare_cpu": statistics.median(bare_c.cpu),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--preset", default="veryfast")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out" / "layers")
    args = p.parse_args(argv)
    media = ROOT / "sample_specs" / "media"
    ensure(sample_assets(), media)
    os.environ["ALLOWED_LOCAL_DIRS"] = str(media)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    doc = composition(media, args.seconds, args.preset)
    print(f"| {args.seconds:g} s 720x1280 | vidsvc render (s) | same argv bare (s) | wall ratio "
          "| CPU render / bare (s) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name in ("vertical (blur, motion)", "contain instead of blur", "no motion"):
        work = args.out / name.replace(" ", "_").replace("(", "").replace(")", "").replace(",", "")
        work.mkdir()
        spec = work / "spec.json"
        spec.write_text(json.dumps(variant(doc, name)))
        m = measure(spec, work, args.preset, args.runs)
        wall = m["cli_wall"] / m["bare_wall"]
        cpu = m["cli_cpu"] / m["bare_cpu"]
        print(f"| {name} | {m['cli_wall']:.2f} | {m['bare_wall']:.2f} | {wall:.3f} | "
              f"{m['cli_cpu']:.1f} / {m['bare_cpu']:.1f} = {cpu:.3f} |")  # fmt: skip
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
