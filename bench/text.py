"""Text-heavy benchmark (issue 11): eight overlays plus word-highlight captions over 30 s.

Three routes over the same 30 s 720p clip, timed wall-clock, each `--runs` times (median):
- vidsvc: the whole render() (stage, probe, compile, one FFmpeg run, thumbnail);
- ass: one hand-written FFmpeg command drawing vidsvc's own ASS document (`ass=` filter with
  the same font directory), the floor the text engine can reach;
- drawtext: the old engine's way, one drawtext filter per overlay and per caption line
  (textfile, expansion=none); it cannot recolour the spoken word, so it draws each line
  once instead of once per word: the cost of the change, not an identical picture.

    .venv/bin/python -m bench.text [--runs 3] [--preset veryfast]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.graph import captions as caption_graph
from vidsvc.media.fontdir import link_files
from vidsvc.media.load import Load
from vidsvc.media.workspace import write_files
from vidsvc.schema import parse_composition
from vidsvc.work.compositions import render as vidsvc_render
from vidsvc.work.compositions.reporter import Reporter

SECONDS = 30
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SCRIPT = (
    "Short videos need captions that follow the voice word by word and every line must "
    "stay inside the frame while the spoken word lights up in gold so viewers can read "
    "along without sound this benchmark draws eight overlays and these captions over "
    "thirty seconds of video to measure what the libass text engine costs compared with "
    "the old drawtext filters and with one hand written command"
).split()


def composition(clip: Path, preset: str) -> dict[str, object]:
    overlays = [
        {
            "content": f"Overlay {i + 1}: {text}",
            "position": {"x": x, "y": y},
            "start_time": i * 3,
            "duration": 8,
            "style": {
                "size": 36 + 4 * (i % 3),
                "box": i % 2 == 0,
                "outline": i % 3,
                "shadow": True,
            },
            "animation": anim,
        }
        for i, (text, x, y, anim) in enumerate(
            [
                ("Привет мир", "left", "top", "fade"),
                ("你好世界", "right", "top", "pop"),
                ("नमस्ते दुनिया", "center", "center", "slide_up"),
                ("مرحبا بالعالم", "left", 300, "typewriter"),
                ("Γειά σου κόσμε", "right", 300, "none"),
                ("שלום עולם", "center", "top", "fade"),
                ("こんにちは", "left", 450, "pop"),
                ("Bonjour à tous", "right", 450, "slide_up"),
            ]
        )
    ]
    step = (SECONDS - 1) / len(SCRIPT)
    words = [
        {"start": round(i * step, 3), "end": round((i + 0.9) * step, 3), "text": w}
        for i, w in enumerate(SCRIPT)
    ]
    return {
        "clips": [{"url": clip.as_uri()}],
        "overlays": overlays,
        "captions": {"words": words, "mode": "highlight", "style": {"size": 48, "outline": 3}},
        "output": {"resolution": "720p", "fps": 30, "preset": preset},
    }


def make_clip(path: Path) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=s=1280x720:r=30:d={SECONDS}", "-f", "lavfi", "-i",
         f"sine=f=330:d={SECONDS}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def encode(preset: str) -> list[str]:
    return ["-c:v", "libx264", "-preset", preset, "-crf", "21", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"]  # fmt: skip


def drawtext_graph(comp: spec.Composition, work: Path) -> str:
    """One drawtext per overlay and per caption line (the engine before issue 11)."""
    filters = []
    for i, o in enumerate(comp.overlays):
        (work / f"o{i}.txt").write_text(o.text, encoding="utf-8")
        x = {"left": "36", "right": "w-text_w-36", "center": "(w-text_w)/2"}.get(
            str(o.x), str(o.x)
        )
        y = {"top": "36", "bottom": "h-text_h-36", "center": "(h-text_h)/2"}.get(
            str(o.y), str(o.y)
        )
        end = o.start_ms / 1000 + (o.duration_ms or 0) / 1000
        filters.append(
            f"drawtext=fontfile={FONT}:textfile=o{i}.txt:expansion=none:fontsize={o.style.size}:"
            f"fontcolor=white:x={x}:y={y}:enable=between(t\\,{o.start_ms / 1000}\\,{end})"
        )
    cap = comp.captions
    assert cap is not None
    lines = caption_graph.group(list(cap.words), 1208, float(cap.style.size))
    for k, group in enumerate(lines):
        (work / f"c{k}.txt").write_text(" ".join(w.text for w in group), encoding="utf-8")
        start, end = group[0].start_ms / 1000, group[-1].end_ms / 1000
        filters.append(
            f"drawtext=fontfile={FONT}:textfile=c{k}.txt:expansion=none:fontsize={cap.style.size}:"
            f"fontcolor=white:borderw=3:x=(w-text_w)/2:y=h-text_h-58:"
            f"enable=between(t\\,{start}\\,{end})"
        )
    return ",".join(filters)


async def run(runs: int, preset: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"vidsvc": [], "ass": [], "drawtext": []}
    with tempfile.TemporaryDirectory(prefix="bench-text-") as tmp:
        root = Path(tmp)
        clip = root / "clip.mp4"
        make_clip(clip)
        comp = parse_composition(composition(clip, preset))
        settings = Settings.from_env({"ALLOWED_LOCAL_DIRS": str(root), "TMP_DIR": str(root)})
        work = root / "hand"
        work.mkdir()
        report = Reporter(None)
        prepared = await vidsvc_render.prepare(comp, settings, work, report, load=Load())
        command = prepared.command
        write_files(work, command.files)
        link_files(work, command.links)
        ass_argv = ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-vf",
                    "ass=filename=text.ass:fontsdir=fonts:shaping=complex", *encode(preset),
                    "out.mp4"]  # fmt: skip
        draw_argv = ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-vf",
                     drawtext_graph(comp, work), *encode(preset), "old.mp4"]  # fmt: skip
        for _ in range(runs):
            start = time.perf_counter()
            await vidsvc_render.render(
                comp, settings, video_out=root / "v.mp4", thumbnail_out=root / "v.jpg"
            )
            times["vidsvc"].append(time.perf_counter() - start)
            times["ass"].append(timed(ass_argv, work))
            times["drawtext"].append(timed(draw_argv, work))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--preset", default="veryfast")
    args = parser.parse_args()
    times = asyncio.run(run(args.runs, args.preset))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"text-heavy composition, {SECONDS} s 720p30, x264 {args.preset}, {args.runs} run(s)")
    print("| route | median s | runs |")
    print("|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {med[name]:.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print(f"vidsvc / ass = {med['vidsvc'] / med['ass']:.3f}; "
          f"ass / drawtext = {med['ass'] / med['drawtext']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
