"""How much faster is smart rendering than one pass, on compositions of render-ready clips?

Nine 20 s clips (1280x720, 30 fps, sound) are synthesized and put through vidsvc's own
`normalize` (render-ready, the default preset), cached in bench/out/smart/. Two compositions
of them, 60 s (three clips) and 180 s (nine), alternate cuts and 0.5 s crossfades and carry a
3 s text overlay in each clip (15 % of the timeline). Each is rendered by vidsvc twice in this
process: smart (the default) and
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

import asyncio
import re
import subprocess
from pathlib import Path
from typing import Any

from bench import seams
from bench.harness.measure import Context, Measure, Options, Section
from sample_specs.media import VideoRecipe, ensure, video_asset

CLIP_SECONDS, CLIPS, TEXT_SECONDS = 20.0, 9, 3.0
GOAL = 3.0


def recipes(clip_seconds: float) -> list[VideoRecipe]:
    return [
        VideoRecipe(f"raw{i}.mp4", clip_seconds, (1280, 720),
                    f"testsrc2=s=1280x720:r=30,hue=h=t*{12 + 7 * i},noise=alls=6:allf=t",
                    f"sine=f={220 + 55 * i}:sample_rate=48000")
        for i in range(CLIPS)
    ]  # fmt: skip


def composition(
    clips: list[Path], clip_seconds: float, text_share: float, smart_render: bool
) -> dict[str, Any]:
    doc_clips: list[dict[str, Any]] = []
    overlays: list[dict[str, Any]] = []
    at = 0.0
    for i, clip in enumerate(clips):
        entry: dict[str, Any] = {"url": f"file://{clip}"}
        if i % 2 == 1:
            entry |= {"transition_in": "crossfade", "transition_duration": 0.5}
            at -= 0.5
        doc_clips.append(entry)
        shown = clip_seconds * text_share
        overlays.append({"type": "text", "content": f"Clip {i + 1}", "position": {"y": "bottom"},
                         "start_time": round(at + (clip_seconds - shown) / 2, 3),
                         "duration": shown})  # fmt: skip
        at += clip_seconds
    return {"clips": doc_clips, "overlays": overlays,
            "output": {"resolution": "720p", "smart_render": smart_render}}  # fmt: skip


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


def quality(fast: seams.Rendered, one: seams.Rendered) -> dict[str, Any]:
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


async def case(
    out: Path, name: str, clips: list[Path], clip_seconds: float, share: float,
    config: seams.Settings,
) -> str:  # fmt: skip
    work = out / name.replace(" ", "_")
    work.mkdir(parents=True, exist_ok=True)
    smart_doc, one_doc = (composition(clips, clip_seconds, share, on) for on in (True, False))
    fast = await seams.render_document(smart_doc, config, work / "smart.mp4")
    one = await seams.render_document(one_doc, config, work / "one.mp4")
    plan = fast.smart
    if not plan.get("applied"):
        return f"| {name} | one pass: {plan.get('reason')} | | | | |"
    q = quality(fast, one)
    return (f"| {name} | {plan['copied_seconds']:.1f} / {plan['encoded_seconds']:.1f} "
            f"({plan['pieces']} spans) | {fast.wall_s:.1f} vs {one.wall_s:.1f} = "
            f"**{one.wall_s / fast.wall_s:.2f}x** | {fast.cpu_s:.1f} vs {one.cpu_s:.1f} = "
            f"**{one.cpu_s / fast.cpu_s:.2f}x** | {q['psnr']:.1f} dB / {q['ssim']:.4f} | "
            f"{'identical' if q['copies_identical'] else 'DIFFER'} |")  # fmt: skip


async def study(ctx: Context, opts: Options) -> list[str]:
    clip_seconds = opts.number("clip_seconds")
    # Shorter clips (--quick) are other files: they get their own cache.
    name = "smart" if clip_seconds == CLIP_SECONDS else f"smart-{clip_seconds:g}s"
    out = ctx.out / name
    media = out / "media"
    totals, low_shares = opts.numbers("seconds"), opts.numbers("low_shares")
    needed = max([round(t / clip_seconds) for t in totals] + [3] * bool(low_shares))
    made = recipes(clip_seconds)[:needed]
    ensure([video_asset(r) for r in made], media)
    config = seams.settings({"TMP_DIR": str(out / "tmp"), "ALLOWED_LOCAL_DIRS": str(out)})
    ready = [await seams.normalize(media / r.name, out / "ready" / f"ready{i}.mp4", config)
             for i, r in enumerate(made)]  # fmt: skip
    lines = [
        "| composition | copied / encoded (s) | wall smart vs one pass (s) | FFmpeg CPU (s) "
        "| encode spans vs one pass: worst PSNR / SSIM | copied spans (framemd5) |",
        "|---|---|---|---|---|---|",
    ]
    share = TEXT_SECONDS / CLIP_SECONDS
    for total in totals:
        n = round(total / clip_seconds)
        label = f"{total:g} s, text on {share * 100:.0f} %"
        lines.append(await case(out, label, ready[:n], clip_seconds, share, config))
        print(lines[-1], flush=True)
    with seams.copy_threshold_lifted():  # what the threshold protects against, measured
        for text in low_shares:
            label = f"{3 * clip_seconds:g} s, text on {text:.0%}, no threshold"
            lines.append(await case(out, label, ready[:3], clip_seconds, text, config))
            print(lines[-1], flush=True)
    return lines


def run(ctx: Context, opts: Options) -> list[Section]:
    lines = asyncio.run(study(ctx, opts))
    lines += ["", f"Goal: smart >= {GOAL:g}x one pass in wall time and FFmpeg CPU."]
    return [Section("smart", MEASURE.question, lines)]


MEASURE = Measure(
    name="smart",
    question="how much faster is smart rendering than one pass on render-ready clips?",
    takes="about 6 minutes; 12 the first time, when it normalizes its nine 20 s clips",
    quick_note="two 6 s clips, no threshold cases: about 1 minute the first time (it makes and "
    "normalizes them), then 30 s",
    run=run,
    defaults={"clip_seconds": CLIP_SECONDS, "seconds": (60.0, 180.0), "low_shares": (0.5, 0.85)},
    quick={"clip_seconds": 6.0, "seconds": (12.0,), "low_shares": ()},
)
