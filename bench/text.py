"""Text-heavy benchmark (issue 11): eight overlays plus word-highlight captions over 30 s.

Four contenders over the same 30 s 720p clip, in rotating order, wall and CPU (median):
- vidsvc render: the CLI (start-up, stage, probe, compile, one FFmpeg run, thumbnail);
- vidsvc argv bare: the FFmpeg command vidsvc compiled, run with no Python around it;
- hand-written ass: the same outputs as one command a person would write (fps and pixel
  format, vidsvc's own ASS document through `ass=` with the same font directory, the
  thumbnail from a split, the audio resampled and limited), the floor the engine can reach;
- drawtext: the old engine's way, one drawtext filter per overlay and per caption line
  (textfile, expansion=none) over the same hand-written graph; it cannot recolour the
  spoken word, so it draws each line once instead of once per word: the cost of the change,
  not an identical picture.

    .venv/bin/python -m bench.text [--runs 3] [--preset veryfast]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from bench.bare import compile_reference
from bench.timing import Contender, run_rounds
from vidsvc import spec
from vidsvc.graph import captions as caption_graph
from vidsvc.schema import parse_composition

SECONDS = 30
ROOT = Path(__file__).resolve().parent.parent
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


def hand_written(clip: Path, vf: str, preset: str, out: str) -> list[str]:
    """The render as one command: what vidsvc's argv does, without its generic scaffolding."""
    graph = (
        f"[0:v]fps=30,format=yuv420p,{vf},split[v][t];"
        "[t]trim=start_frame=30:end_frame=31,scale=640:-2[th];"
        "[0:a]aresample=48000,alimiter=limit=0.891:level=0[a]"
    )
    return ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-filter_complex", graph,
            "-map", "[v]", "-map", "[a]", *encode(preset), "-t", str(SECONDS), out,
            "-map", "[th]", "-frames:v", "1", "-q:v", "3", "-update", "1",
            "thumb.jpg"]  # fmt: skip


def run(runs: int, preset: str, out: Path) -> list[Contender]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    clip = out / "clip.mp4"
    make_clip(clip)
    os.environ["ALLOWED_LOCAL_DIRS"] = str(out)
    spec = out / "spec.json"
    spec.write_text(json.dumps(composition(clip, preset)))
    compiled = compile_reference(spec, out / "bare", preset)
    work = compiled.work  # holds text.ass and fonts/ for the hand-written commands
    comp = parse_composition(composition(clip, preset))
    cli = [str(ROOT / ".venv" / "bin" / "vidsvc"), "render", str(spec), str(out / "cli.mp4")]
    ass = "ass=filename=text.ass:fontsdir=fonts:shaping=complex"
    contenders = [
        Contender("vidsvc render", cli, out / "cli.mp4", out),
        Contender("vidsvc argv bare", compiled.argv, compiled.output, work),
        Contender("hand-written ass", hand_written(clip, ass, preset, "hand.mp4"),
                  work / "hand.mp4", work),
        Contender("drawtext", hand_written(clip, drawtext_graph(comp, work), preset, "old.mp4"),
                  work / "old.mp4", work),
    ]  # fmt: skip
    run_rounds(contenders, runs, out)
    return contenders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "text")
    args = parser.parse_args()
    contenders = run(args.runs, args.preset, args.out)
    wall = {c.name: statistics.median(c.times) for c in contenders}
    cpu = {c.name: statistics.median(c.cpu) for c in contenders}
    print(f"text-heavy composition, {SECONDS} s 720p30, x264 {args.preset}, {args.runs} run(s), "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| route | wall s (median) | CPU s (median) | wall runs |")
    print("|---|---|---|---|")
    for c in contenders:
        runs = ", ".join(f"{v:.2f}" for v in c.times)
        print(f"| {c.name} | {wall[c.name]:.2f} | {cpu[c.name]:.1f} | {runs} |")
    for name in ("vidsvc render", "vidsvc argv bare", "drawtext"):
        print(f"{name} / hand-written ass: wall {wall[name] / wall['hand-written ass']:.3f}, "
              f"CPU {cpu[name] / cpu['hand-written ass']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
