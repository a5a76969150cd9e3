"""Smart rendering against one pass, on compositions of render-ready clips.

Run as `python -m bench.smart` (part of `make bench`). Nine 20 s clips (1280x720, 30 fps,
sound) are synthesized and put through vidsvc's own `normalize` (render-ready, the default
preset), cached in bench/out/smart/. Two compositions of them, 60 s (three clips) and 180 s
(nine), alternate cuts and 0.5 s crossfades and carry a 3 s text overlay in each clip (15 %
of the timeline). Each is rendered by vidsvc twice in this process: smart (the default) and
one pass (`output.smart_render: false`, the single FFmpeg command that is within noise of a
hand-written one: see the main benchmark). Reported per composition:
- wall seconds and FFmpeg CPU seconds (its own getrusage via -benchmark, so other load on the
  machine blurs wall time but not CPU) for both, and their ratios (the goal is >= 3x);
- the plan: seconds copied and encoded, spans;
- quality: the worst per-frame PSNR and SSIM of the encode spans against the one pass, and
  whether every copied span's decoded frames equal the source's (framemd5);
- the 60 s one with text over 50 % and 85 % of each clip, rendered with the copy threshold
  lifted, for what smart rendering gains when little can be copied (the threshold's basis).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sample_specs.media import VideoRecipe, ensure, video_asset
from vidsvc import cliptask, graph
from vidsvc.config import Settings
from vidsvc.graph import clip_ops, smart
from vidsvc.media.ffmpeg import run_ffmpeg
from vidsvc.media.probe import probe
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import RenderResult, render

BENCH_DIR = Path(__file__).resolve().parent
OUT = BENCH_DIR / "out" / "smart"
CLIP_SECONDS, CLIPS, TEXT_SECONDS = 20.0, 9, 3.0
GOAL = 3.0


def recipes() -> list[VideoRecipe]:
    return [
        VideoRecipe(f"raw{i}.mp4", CLIP_SECONDS, (1280, 720),
                    f"testsrc2=s=1280x720:r=30,hue=h=t*{12 + 7 * i},noise=alls=6:allf=t",
                    f"sine=f={220 + 55 * i}:sample_rate=48000")
        for i in range(CLIPS)
    ]  # fmt: skip


async def normalize(raw: Path, out: Path, settings: Settings) -> Path:
    """vidsvc's own normalize operation (render-ready) on one file, cached."""
    if out.exists():
        return out
    work = out.parent / f"work-{raw.stem}"
    work.mkdir(parents=True, exist_ok=True)
    link = work / "in0.mp4"
    link.unlink(missing_ok=True)
    link.symlink_to(raw)
    info = await probe(link, settings, field="clip")
    source = graph.Source(name="in0.mp4", duration_ms=info.duration_ms, has_video=True,
                          has_audio=info.has_audio)  # fmt: skip
    enc = graph.Encoding(duration_ms=info.duration_ms, preset=settings.x264_preset,
                         crf=settings.default_crf)  # fmt: skip
    task = cliptask.ClipTask(processing_id="bench", clips=("x",), operations=("normalize",))
    command = clip_ops.compile_clip(clip_ops.build_clip(task, source), enc)
    await run_ffmpeg(command.argv, settings=settings, cwd=work)
    (work / command.files["normalized"]).rename(out)
    return out


def composition(clips: list[Path], text_share: float, smart_render: bool) -> dict[str, Any]:
    doc_clips: list[dict[str, Any]] = []
    overlays: list[dict[str, Any]] = []
    at = 0.0
    for i, clip in enumerate(clips):
        entry: dict[str, Any] = {"url": f"file://{clip}"}
        if i % 2 == 1:
            entry |= {"transition_in": "crossfade", "transition_duration": 0.5}
            at -= 0.5
        doc_clips.append(entry)
        shown = CLIP_SECONDS * text_share
        overlays.append({"type": "text", "content": f"Clip {i + 1}", "position": {"y": "bottom"},
                         "start_time": round(at + (CLIP_SECONDS - shown) / 2, 3),
                         "duration": shown})  # fmt: skip
        at += CLIP_SECONDS
    return {"clips": doc_clips, "overlays": overlays,
            "output": {"resolution": "720p", "smart_render": smart_render}}  # fmt: skip


async def timed(doc: dict[str, Any], settings: Settings, out: Path) -> tuple[RenderResult, float]:
    started = time.monotonic()
    result = await render(parse_composition(doc), settings, video_out=out,
                          thumbnail_out=out.with_suffix(".jpg"))  # fmt: skip
    return result, time.monotonic() - started


def _ffmpeg_text(*args: str) -> str:
    done = subprocess.run(["ffmpeg", "-v", "error", *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


def per_frame(a: Path, b: Path) -> tuple[list[float], list[float]]:
    """Per-frame PSNR (average of planes) and SSIM (All) of `a` against `b`."""
    both = (
        "[0:v]split[a1][a2];[1:v]split[b1][b2];[a1][b1]psnr=stats_file=-;[a2][b2]ssim=stats_file=-"
    )
    text = _ffmpeg_text("-i", str(a), "-i", str(b), "-lavfi", both, "-f", "null", "-")
    psnr = [99.0 if v == "inf" else float(v) for v in re.findall(r"psnr_avg:(\S+)", text)]
    ssim = [float(v) for v in re.findall(r"All:(\S+)", text)]
    return psnr, ssim


def frame_md5s(path: Path, first: int, count: int) -> list[str]:
    text = _ffmpeg_text("-i", str(path), "-an", "-vf",
                        f"select='between(n,{first},{first + count - 1})'",
                        "-fps_mode", "passthrough", "-f", "framemd5", "-")  # fmt: skip
    return [line.rsplit(",", 1)[1].strip() for line in text.splitlines() if line[:1] != "#"]


def quality(fast: RenderResult, one: RenderResult) -> dict[str, Any]:
    psnr, ssim = per_frame(fast.video, one.video)
    fps = 30
    worst_psnr, worst_ssim, same = 99.0, 1.0, True
    for span in fast.smart["spans"]:
        first, end = round(span["start"] * fps), round(span["end"] * fps)
        if span["kind"] == "encode":
            worst_psnr = min(worst_psnr, *psnr[first:end])
            worst_ssim = min(worst_ssim, *ssim[first:end])
        else:
            source = Path(str(span["source"]).removeprefix("file://"))
            mine = frame_md5s(fast.video, first, end - first)
            same &= mine == frame_md5s(source, int(span["source_frame"]), end - first)
    return {"psnr": worst_psnr, "ssim": worst_ssim, "copies_identical": same}


def cpu(result: RenderResult) -> float:
    return sum(r.cpu_s or 0.0 for r in result.runs)


async def case(name: str, clips: list[Path], share: float, settings: Settings) -> str:
    work = OUT / name.replace(" ", "_")
    work.mkdir(parents=True, exist_ok=True)
    fast, fast_wall = await timed(composition(clips, share, True), settings, work / "smart.mp4")
    one, one_wall = await timed(composition(clips, share, False), settings, work / "one.mp4")
    plan = fast.smart
    if not plan.get("applied"):
        return f"| {name} | one pass: {plan.get('reason')} | | | | |"
    q = quality(fast, one)
    return (f"| {name} | {plan['copied_seconds']:.1f} / {plan['encoded_seconds']:.1f} "
            f"({plan['pieces']} spans) | {fast_wall:.1f} vs {one_wall:.1f} = "
            f"**{one_wall / fast_wall:.2f}x** | {cpu(fast):.1f} vs {cpu(one):.1f} = "
            f"**{cpu(one) / cpu(fast):.2f}x** | {q['psnr']:.1f} dB / {q['ssim']:.4f} | "
            f"{'identical' if q['copies_identical'] else 'DIFFER'} |")  # fmt: skip


async def run(seconds: list[int], low_shares: list[float]) -> list[str]:
    media = OUT / "media"
    ensure([video_asset(r) for r in recipes()], media)
    settings = Settings.from_env({"TMP_DIR": str(OUT / "tmp"), "ALLOWED_LOCAL_DIRS": str(OUT)})
    ready = [await normalize(media / r.name, OUT / "ready" / f"ready{i}.mp4", settings)
             for i, r in enumerate(recipes())]  # fmt: skip
    lines = [
        "| composition | copied / encoded (s) | wall smart vs one pass (s) | FFmpeg CPU (s) "
        "| encode spans vs one pass: worst PSNR / SSIM | copied spans (framemd5) |",
        "|---|---|---|---|---|---|",
    ]
    share = TEXT_SECONDS / CLIP_SECONDS
    for total in seconds:
        n = round(total / CLIP_SECONDS)
        lines.append(await case(f"{total} s, text on 15 %", ready[:n], share, settings))
        print(lines[-1], flush=True)
    smart.MIN_COPY_SHARE = 0.0  # what the threshold protects against, measured
    for text in low_shares:
        lines.append(await case(f"60 s, text on {text:.0%}, no threshold", ready[:3], text,
                                settings))  # fmt: skip
        print(lines[-1], flush=True)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.smart", description=__doc__)
    p.add_argument("--seconds", type=int, nargs="+", default=[60, 180])
    p.add_argument(
        "--low-shares",
        type=float,
        nargs="*",
        default=[0.5, 0.85],
        help="text shares for the 60 s case rendered with the copy threshold lifted",
    )
    args = p.parse_args(argv)
    lines = asyncio.run(run(args.seconds, args.low_shares))
    (OUT / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"goal: >= {GOAL:g}x; table in {OUT / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
