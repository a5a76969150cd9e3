"""The smart render's three FFmpeg commands, from a Plan (graph/splice_plan.py):

1. windows: the same graph as the one pass, run once over the whole timeline; its video keeps
   only the encode spans' frames (`select` on the frame index, after every filter, so each
   frame is the one the one pass would encode), back to back in `windows.mp4` with an IDR at
   each span's start and the render-ready encoding (graph/render_ready.py, so its parameter
   sets are byte-identical to the sources'); the audio mix in full in `audio.m4a` (a mix is
   cheap and AAC pieces cannot be joined without priming gaps); the thumbnail as usual.
2. strip: each copied source's video stream alone (`-c copy`), because the concat demuxer
   ends a piece at the first packet past `outpoint` in *any* stream, audio included.
3. join: the concat demuxer over the pieces, `-c copy`, muxed with `audio.m4a`, +faststart.

The pieces are cut by packet index: `inpoint` is the piece's IDR's timestamp (rounded up to
the microsecond, so FFmpeg's backward seek cannot land on the IDR before), `outpoint` the
decoding timestamp of the first packet not taken (rounded down: the concat demuxer stops at a
dts >= outpoint), and `duration` the piece's exact frame count, written so that the running
sum in microseconds rounds to each piece's first frame.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from vidsvc import spec
from vidsvc.graph.compile import (
    GRAPH_FILE,
    Command,
    Encoding,
    audio_codec,
    command,
    global_args,
    head_args,
    thumbnail_args,
    video_codec,
)
from vidsvc.graph.model import Filter, Graph
from vidsvc.graph.render_ready import video_args
from vidsvc.graph.splice_plan import Plan

WINDOWS_OUT = "windows.mp4"
AUDIO_OUT = "audio.m4a"
CONCAT_LIST = "pieces.ffconcat"
MP4_DEMUXER = spec.INPUT_FORMATS[0]  #: "mov,mp4,…": the only kind of file a piece is


@dataclass(frozen=True, slots=True, kw_only=True)
class Packets:
    """A file's video packets in decode order, as its demuxer gives them."""

    pts: Sequence[int]
    dts: Sequence[int]
    time_base: Fraction


def _select(plan: Plan) -> str:
    return "+".join(f"between(n,{w.start},{w.end - 1})" for w in plan.windows)


def _window_starts(plan: Plan) -> list[int]:
    """Where each encode span starts inside windows.mp4 (spans are back to back)."""
    starts, at = [], 0
    for w in plan.windows:
        starts.append(at)
        at += w.frames
    return starts


def windows_command(
    graph: Graph, enc: Encoding, plan: Plan, *, out: str = WINDOWS_OUT, script: str = GRAPH_FILE
) -> Command:
    """Command 1: the encode spans (to `out`), the audio mix and the thumbnail in one run of
    the graph; a graph without sound (a split's part: graph/split_pieces.py) writes none."""
    video, audio, thumb = graph.outputs
    if plan.windows:
        picked = Filter(name="select", inputs=(video,), outputs=("vpicked",),
                        args=(("expr", _select(plan)),))  # fmt: skip
        retimed = Filter(name="setpts", inputs=("vpicked",), outputs=("vwindows",),
                         args=(("expr", f"N/({plan.fps}*TB)"),))  # fmt: skip
        ending: tuple[Filter, ...] = (picked, retimed)
        outputs: tuple[str, ...] = ("vwindows", audio, thumb)
    else:  # everything is copied: the graph still makes the mix and the thumbnail
        ending = (Filter(name="nullsink", inputs=(video,), outputs=()),)
        outputs = (audio, thumb)
    outputs = tuple(pad for pad in outputs if pad)
    # the same graph (its inputs, feeds and files) with the picking at the end
    extended = replace(graph, filters=(*graph.filters, *ending), outputs=outputs)
    argv, files = head_args(extended, enc, script=script)
    if plan.windows:
        keys = "+".join(f"eq(n,{s})" for s in _window_starts(plan)[1:]) or "0"
        argv += [
            "-map", "[vwindows]", *video_codec(enc), *video_args(), "-pix_fmt", "yuv420p",
            "-force_key_frames", f"expr:{keys}", "-forced-idr", "1",
            "-frames:v", str(plan.encoded_frames), "-an", out,
        ]  # fmt: skip
    if audio:
        argv += ["-map", f"[{audio}]", *audio_codec(enc), "-vn",
                 "-t", f"{enc.duration_ms / 1000:.3f}", AUDIO_OUT]  # fmt: skip
    argv += thumbnail_args(thumb, enc.thumb_out)
    return command(extended, enc, argv, files)


def strip_command(pairs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Command 2: (staged source, video-only copy) for every source a piece is copied from."""
    argv = global_args()
    for name, _ in pairs:
        argv += ["-protocol_whitelist", "file", "-format_whitelist", MP4_DEMUXER, "-i", name]
    for i, (_, stripped) in enumerate(pairs):
        argv += ["-map", f"{i}:v:0", "-c", "copy", stripped]
    return tuple(argv)


def _secs(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def concat_document(
    plan: Plan, stripped: Mapping[str, str], packets: Mapping[str, Packets]
) -> str:
    """The concat demuxer's script: each piece as (file, inpoint, outpoint, duration).
    `stripped`: source URL → its video-only file; `packets`: file → its packets."""
    lines = ["ffconcat version 1.0"]
    starts = iter(_window_starts(plan))
    for piece in plan.pieces:
        if piece.source is None:
            name, first = WINDOWS_OUT, next(starts)
        else:
            name, first = stripped[piece.source], piece.source_start
        p = packets[name]
        lines.append(f"file {name}")
        micros = p.time_base * 1_000_000
        lines.append(f"inpoint {_secs(math.ceil(p.pts[first] * micros))}")
        after = first + piece.frames
        if after < len(p.dts):
            lines.append(f"outpoint {_secs(math.floor(p.dts[after] * micros))}")
        begin = round(Fraction(piece.start * 1_000_000, plan.fps))
        end = round(Fraction(piece.end * 1_000_000, plan.fps))
        lines.append(f"duration {_secs(end - begin)}")
    return "\n".join(lines) + "\n"


def join_command(enc: Encoding) -> tuple[str, ...]:
    """Command 3: the pieces joined without re-encoding, muxed with the audio mix."""
    return (
        *global_args(),
        "-protocol_whitelist", "file", "-format_whitelist", f"concat,{MP4_DEMUXER}",
        "-auto_convert", "0", "-f", "concat", "-i", CONCAT_LIST,
        "-protocol_whitelist", "file", "-format_whitelist", MP4_DEMUXER, "-i", AUDIO_OUT,
        "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
        "-movflags", "+faststart", enc.video_out,
    )  # fmt: skip
