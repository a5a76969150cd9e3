"""clip_ops: one raw clip and its operations become ONE FFmpeg run with several outputs.

    input ─ fit/letterbox 1280x720, 30 fps CFR, yuv420p, colour ─ split ─┬─ normalized.mp4
                                                                         ├─ thumbnail.jpg
                                                                         └─ contact_sheet.jpg

Decisions (README "Internal clip processing"):
- Both video products are render-ready (graph.render_ready, cliptask.RENDER_READY): a fixed IDR
  grid, pinned level, bt709 tags, stitchable x264, so a composition can splice their GOPs.
- `normalize` is the output profile with loudness-normalized audio (`loudnorm` single pass,
  I=-16:TP=-1.5:LRA=11); a clip without audio gets silence, so every output has both streams.
- `color_correct` applies a COLOR_FILTERS preset or `auto` (AUTO_COLOR). With `normalize`
  they share one output; alone it writes `color_corrected.mp4` in the same profile but with
  the audio left at its loudness (re-encoded to AAC 48 kHz stereo), since loudness was not
  asked for.
- `thumbnail` is a 640-wide JPEG at thumbnail_ms (default 1 s, or the middle of a shorter
  clip); with contact_sheet, a 3x3 grid of frames sampled evenly (fps + tile) as well.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vidsvc import cliptask
from vidsvc.graph.builder import Arg, GraphBuilder
from vidsvc.graph.compile import (
    Encoding,
    audio_codec,
    global_args,
    graph_string,
    input_args,
    thumbnail_args,
    video_codec,
)
from vidsvc.graph.model import Graph, Source
from vidsvc.graph.render_graph import THUMB_WIDTH
from vidsvc.graph.render_ready import video_args
from vidsvc.graph.segments import COLOR_FILTERS

#: The render-ready profile's numbers, so the graph and the pinned encoding cannot disagree.
WIDTH, HEIGHT = cliptask.RENDER_READY.width, cliptask.RENDER_READY.height
FPS, RATE = cliptask.RENDER_READY.fps, cliptask.RENDER_READY.audio_rate
LOUDNORM: dict[str, Arg] = {"I": -16, "TP": -1.5, "LRA": 11}
#: `auto`: FFmpeg's `normalize` stretches each frame's levels to the full range, smoothed over
#: 30 frames so it does not pump; independence=0 stretches the channels together, which fixes
#: washed-out or dark exposure without shifting the hue. Cheap next to the H.264 encode.
AUTO_COLOR: tuple[tuple[str, dict[str, Arg]], ...] = (
    ("normalize", {"smoothing": 30, "independence": 0}),
)
SHEET_COLS, SHEET_ROWS, SHEET_CELL_WIDTH = 3, 3, 320


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipGraph:
    graph: Graph
    #: output name → its pads in `graph.outputs` order (a video product has video + audio)
    products: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipCommand:
    argv: tuple[str, ...]  #: without the binary
    files: Mapping[str, str]  #: output name → workspace-relative file FFmpeg writes
    expected_duration_ms: int


def video_product(task: cliptask.ClipTask) -> str | None:
    """The name of the video output the operations ask for, if any."""
    if "normalize" in task.operations:
        return "normalized"
    if "color_correct" in task.operations:
        return "color_corrected"
    return None


def _color(task: cliptask.ClipTask) -> tuple[tuple[str, dict[str, Arg]], ...]:
    if "color_correct" not in task.operations:
        return ()
    if task.color_preset == "auto":
        return AUTO_COLOR
    return COLOR_FILTERS[task.color_preset]


def _profile_video(g: GraphBuilder, task: cliptask.ClipTask) -> str:
    fit: dict[str, Arg] = {"w": WIDTH, "h": HEIGHT, "force_original_aspect_ratio": "decrease"}
    return g.chain(
        "0:v",
        ("scale", {**fit, "force_divisible_by": 2}),
        ("pad", {"w": WIDTH, "h": HEIGHT, "x": "(ow-iw)/2", "y": "(oh-ih)/2", "color": "black"}),
        ("setsar", {"r": 1}),
        ("fps", {"fps": FPS}),
        ("format", {"pix_fmts": "yuv420p"}),
        *_color(task),
    )


def _profile_audio(g: GraphBuilder, task: cliptask.ClipTask, source: Source) -> str:
    seconds = source.duration_ms / 1000
    if not source.has_audio:
        silence = g.add_audio("anullsrc", (), r=RATE, cl="stereo")
        return g.chain(silence, ("atrim", {"duration": seconds}))
    loud = (("loudnorm", LOUDNORM),) if "normalize" in task.operations else ()
    # loudnorm upsamples to 192 kHz internally, so the resample comes after it; apad + atrim
    # make the track exactly as long as the clip even when the source's audio stops early.
    return g.chain(
        "0:a",
        *loud,
        ("aresample", {"osr": RATE}),
        ("aformat", {"sample_fmts": "fltp", "sample_rates": RATE, "channel_layouts": "stereo"}),
        ("apad", {}),
        ("atrim", {"duration": seconds}),
    )


def thumbnail_frame(task: cliptask.ClipTask, duration_ms: int) -> int:
    """1 s in (past a fade from black), the middle of a shorter clip, or as asked."""
    last = max(0, duration_ms * FPS // 1000 - 1)
    wanted = task.thumbnail_ms if task.thumbnail_ms is not None else min(1000, duration_ms // 2)
    return max(0, min(round(wanted * FPS / 1000), last))


def _sheet(g: GraphBuilder, pad: str, duration_ms: int) -> str:
    cells = SHEET_COLS * SHEET_ROWS
    # `cells` frames per clip length, evenly spaced; tile flushes a short last grid at EOF.
    rate = f"{cells * 1000}/{max(duration_ms, 1)}"
    return g.chain(
        pad,
        ("fps", {"fps": rate}),
        ("scale", {"w": SHEET_CELL_WIDTH, "h": -2}),
        ("tile", {"layout": f"{SHEET_COLS}x{SHEET_ROWS}"}),
    )


def build_clip(task: cliptask.ClipTask, source: Source) -> ClipGraph:
    """The graph for one clip; Source.name is the staged input's workspace-relative name."""
    g = GraphBuilder()
    g.input(source.name)
    video = video_product(task)
    wanted = [video] if video else []
    if "thumbnail" in task.operations:
        wanted += ["thumbnail", "contact_sheet"] if task.contact_sheet else ["thumbnail"]
    pads = [_profile_video(g, task)]
    if len(wanted) > 1:
        pads = list(g.add_many("split", (pads[0],), "v" * len(wanted), len(wanted)))
    products: dict[str, tuple[str, ...]] = {}
    for name, pad in zip(wanted, pads, strict=True):
        if name == "thumbnail":
            frame = thumbnail_frame(task, source.duration_ms)
            pad = g.add("trim", (pad,), start_frame=frame, end_frame=frame + 1)
            products[name] = (g.add("scale", (pad,), w=THUMB_WIDTH, h=-2),)
        elif name == "contact_sheet":
            products[name] = (_sheet(g, pad, source.duration_ms),)
        else:
            products[name] = (pad, _profile_audio(g, task, source))
    outputs = tuple(label for pads_of in products.values() for label in pads_of)
    return ClipGraph(graph=g.finish(*outputs), products=products)


def _output_args(name: str, pads: tuple[str, ...], enc: Encoding) -> list[str]:
    if name in ("thumbnail", "contact_sheet"):
        return thumbnail_args(pads[0], f"{name}.jpg")
    return [
        "-map", f"[{pads[0]}]", "-map", f"[{pads[1]}]",
        *video_codec(enc),  # libx264: clip jobs never encode with NVENC (not spliceable)
        *video_args(),  # render-ready: a composition can splice its GOPs
        "-pix_fmt", "yuv420p", "-r", str(FPS),
        *audio_codec(enc), "-ar", str(RATE), "-ac", "2",
        "-movflags", "+faststart", "-t", f"{enc.duration_ms / 1000:.3f}", f"{name}.mp4",
    ]  # fmt: skip


def compile_clip(built: ClipGraph, enc: Encoding) -> ClipCommand:
    """One invocation: the input (allow-listed like every render's), the graph, each output."""
    argv = [
        *global_args(), "-progress", "pipe:1", *input_args(built.graph, enc),
        "-filter_complex", graph_string(built.graph),
    ]  # fmt: skip
    for name, pads in built.products.items():
        argv += _output_args(name, pads, enc)
    files = {
        name: f"{name}.{'jpg' if len(pads) == 1 else 'mp4'}"
        for name, pads in built.products.items()
    }
    return ClipCommand(argv=tuple(argv), files=files, expected_duration_ms=enc.duration_ms)
