"""What does the text engine cost? Eight overlays plus word-highlight captions over 30 s.

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
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from bench import seams
from bench.contenders.bare import compile_reference
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.timing import Contender, run_rounds

SECONDS = 30
ROOT = Path(__file__).resolve().parents[2]
#: The caption lines' width in pixels, as the text engine lays them out at 720p.
CAPTION_WIDTH = 1208
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SCRIPT = (
    "Short videos need captions that follow the voice word by word and every line must "
    "stay inside the frame while the spoken word lights up in gold so viewers can read "
    "along without sound this benchmark draws eight overlays and these captions over "
    "thirty seconds of video to measure what the libass text engine costs compared with "
    "the old drawtext filters and with one hand written command"
).split()


def composition(clip: Path, preset: str, seconds: float) -> dict[str, object]:
    k = seconds / SECONDS  # overlay times scale with a shorter clip (--quick)
    overlays = [
        {
            "content": f"Overlay {i + 1}: {text}",
            "position": {"x": x, "y": y},
            "start_time": i * 3 * k,
            "duration": 8 * k,
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
    step = (seconds - 1) / len(SCRIPT)
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


def make_clip(path: Path, seconds: float) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=s=1280x720:r=30:d={seconds:g}", "-f", "lavfi", "-i",
         f"sine=f=330:d={seconds:g}", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
         "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip


def encode(preset: str) -> list[str]:
    return ["-c:v", "libx264", "-preset", preset, "-crf", "21", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"]  # fmt: skip


def drawtext_graph(doc: dict[str, object], work: Path) -> str:
    """One drawtext per overlay and per caption line: the engine libass replaced."""
    overlays, captions = seams.text_layout(doc, CAPTION_WIDTH)
    filters = []
    for i, o in enumerate(overlays):
        (work / f"o{i}.txt").write_text(o.text, encoding="utf-8")
        x = {"left": "36", "right": "w-text_w-36", "center": "(w-text_w)/2"}.get(o.x, o.x)
        y = {"top": "36", "bottom": "h-text_h-36", "center": "(h-text_h)/2"}.get(o.y, o.y)
        filters.append(
            f"drawtext=fontfile={FONT}:textfile=o{i}.txt:expansion=none:fontsize={o.size}:"
            f"fontcolor=white:x={x}:y={y}:enable=between(t\\,{o.start_s}\\,{o.end_s})"
        )
    for k, line in enumerate(captions):
        (work / f"c{k}.txt").write_text(line.text, encoding="utf-8")
        filters.append(
            f"drawtext=fontfile={FONT}:textfile=c{k}.txt:expansion=none:fontsize={line.size}:"
            f"fontcolor=white:borderw=3:x=(w-text_w)/2:y=h-text_h-58:"
            f"enable=between(t\\,{line.start_s}\\,{line.end_s})"
        )
    return ",".join(filters)


def hand_written(clip: Path, vf: str, preset: str, out: str, seconds: float) -> list[str]:
    """The render as one command: what vidsvc's argv does, without its generic scaffolding."""
    graph = (
        f"[0:v]fps=30,format=yuv420p,{vf},split[v][t];"
        "[t]trim=start_frame=30:end_frame=31,scale=640:-2[th];"
        "[0:a]aresample=48000,alimiter=limit=0.891:level=0[a]"
    )
    return ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-filter_complex", graph,
            "-map", "[v]", "-map", "[a]", *encode(preset), "-t", f"{seconds:g}", out,
            "-map", "[th]", "-frames:v", "1", "-q:v", "3", "-update", "1",
            "thumb.jpg"]  # fmt: skip


def race(runs: int, preset: str, seconds: float, out: Path) -> list[Contender]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    clip = out / "clip.mp4"
    make_clip(clip, seconds)
    os.environ["ALLOWED_LOCAL_DIRS"] = str(out)
    doc = composition(clip, preset, seconds)
    spec = out / "spec.json"
    spec.write_text(json.dumps(doc))
    compiled = compile_reference(spec, out / "bare", preset)
    work = compiled.work  # holds text.ass and fonts/ for the hand-written commands
    cli = [str(ROOT / ".venv" / "bin" / "vidsvc"), "render", str(spec), str(out / "cli.mp4")]
    ass = "ass=filename=text.ass:fontsdir=fonts:shaping=complex"
    old = drawtext_graph(doc, work)
    contenders = [
        Contender("vidsvc render", cli, out / "cli.mp4", out),
        Contender("vidsvc argv bare", compiled.argv, compiled.output, work),
        Contender("hand-written ass", hand_written(clip, ass, preset, "hand.mp4", seconds),
                  work / "hand.mp4", work),
        Contender("drawtext", hand_written(clip, old, preset, "old.mp4", seconds),
                  work / "old.mp4", work),
    ]  # fmt: skip
    run_rounds(contenders, runs, out)
    return contenders


def run(ctx: Context, opts: Options) -> list[Section]:
    runs, preset, seconds = opts.integer("runs"), opts.text("preset"), opts.number("seconds")
    contenders = race(runs, preset, seconds, ctx.out / "text")
    wall = {c.name: statistics.median(c.times) for c in contenders}
    cpu = {c.name: statistics.median(c.cpu) for c in contenders}
    lines = [
        f"Text-heavy composition, {seconds:g} s 720p30, x264 {preset}, {runs} run(s), medians.",
        "",
        "| route | wall s (median) | CPU s (median) | wall runs |",
        "|---|---|---|---|",
    ]
    for c in contenders:
        shown = ", ".join(f"{v:.2f}" for v in c.times)
        lines.append(f"| {c.name} | {wall[c.name]:.2f} | {cpu[c.name]:.1f} | {shown} |")
    lines.append("")
    for name in ("vidsvc render", "vidsvc argv bare", "drawtext"):
        lines.append(f"- {name} / hand-written ass: wall "
                     f"{wall[name] / wall['hand-written ass']:.3f}, CPU "
                     f"{cpu[name] / cpu['hand-written ass']:.3f}")  # fmt: skip
    return [Section("text", MEASURE.question, lines)]


MEASURE = Measure(
    name="text",
    question="what does the text engine cost against one hand-written command and drawtext?",
    takes="about 2 minutes (3 rounds of 4 renders of 30 s at veryfast)",
    quick_note="10 s at ultrafast, 1 round: about 10 s",
    run=run,
    defaults={"runs": 3, "preset": "veryfast", "seconds": float(SECONDS)},
    quick={"runs": 1, "preset": "ultrafast", "seconds": 10.0},
)
