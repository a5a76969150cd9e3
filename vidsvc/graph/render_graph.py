"""build(): a planned timeline and its staged sources become one filter graph.

The clips become segments (graph/segments.py) joined in order (graph/join.py), or, for a long
timeline, pictures fed by parts (graph/parts.py); then overlays, text, the mix and the
thumbnail.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vidsvc import spec
from vidsvc.graph import audio, parts, pictures, text, window
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.join import join
from vidsvc.graph.loudness import Measured
from vidsvc.graph.model import FontFace, Graph, Source
from vidsvc.graph.segments import frame_at, segments
from vidsvc.graph.timeline import Timeline

THUMB_WIDTH = 640


def build(
    timeline: Timeline,
    comp: spec.Composition,
    sources: Mapping[str, Source],
    fonts: Mapping[str, FontFace],
    loudness: Measured | None = None,
    holes: Mapping[int, Sequence[tuple[int, int]]] | None = None,
    part_clips: int = 0,
) -> Graph:
    """The whole render as one graph; outputs are (video, audio, thumbnail) pads.

    `loudness` is the plain mix's measured loudness (graph/loudness.py), a fact like the probes:
    with a loudness target and no measurement yet, the mix is built as it sums. `holes`: per
    clip (its place in the timeline), frames left black instead of decoded (graph/holes.py).
    `part_clips`: a timeline of more clips has its pictures made by parts of this many clips,
    fed to this graph one after another (graph/parts.py); 0: all in this graph."""
    g = GraphBuilder()
    out = comp.output
    win = window.cut(timeline, out) if out.range is not None else None
    placed = timeline if win is None else win.timeline  #: the clips this graph builds
    feeds: tuple[Graph, ...] = ()
    joined: Graph | None = None
    if parts.split(len(placed.clips), part_clips) and not holes:
        joined = parts.sound_graph(placed, comp, sources)
        bed = parts.sound(g)
        video = parts.fed(g, out.size, out.fps)
        feeds = tuple(
            parts.part_graph(placed, comp, sources, first, end)
            for first, end in parts.ranges(len(placed.clips), part_clips)
        )
    else:
        video, bed = join(g, segments(g, placed, out, sources, holes or {}), out.fps)
    if win is not None and win.origin_frame:  # onto the full timeline's clock
        video = g.chain(video, ("setpts", {"expr": f"PTS+{win.origin_frame}/({out.fps}*TB)"}))
    video, bed = pictures.draw(g, video, bed, comp, timeline.duration_ms, sources, win)
    video = text.draw(g, video, timeline, comp, fonts)
    mixed = audio.mix(g, bed, comp.audio, timeline, sources, loudness, win)
    if win is not None:
        video, mixed = _ranged(g, video, mixed, win)
    video, thumb = g.add_many("split", (video,), "vv", 2)
    thumb_frame = thumbnail_frame(comp.output, window.rendered_ms(out, timeline.duration_ms))
    thumb = g.add("trim", (thumb,), start_frame=thumb_frame, end_frame=thumb_frame + 1)
    if max(comp.output.size) > THUMB_WIDTH:  # the long side, whatever the shape
        wide = comp.output.size[0] >= comp.output.size[1]
        size = {"w": THUMB_WIDTH, "h": -2} if wide else {"w": -2, "h": THUMB_WIDTH}
        thumb = g.add("scale", (thumb,), **size)
    return g.finish(video, mixed, thumb, feeds=feeds, sound=joined)


def _ranged(g: GraphBuilder, video: str, sound: str, win: window.Window) -> tuple[str, str]:
    """The range alone, from time 0: the frames and samples before and after it dropped."""
    first, end = win.frames()
    video = g.chain(
        video,
        ("trim", {"start_frame": first, "end_frame": end}),
        ("setpts", {"expr": "PTS-STARTPTS"}),
    )
    first_sample, end_sample = win.samples(audio.RATE)
    sound = g.chain(
        sound,
        ("atrim", {"start_sample": first_sample, "end_sample": end_sample}),
        ("asetpts", {"expr": "PTS-STARTPTS"}),
    )
    return video, sound


def thumbnail_frame(output: spec.Output, total_ms: int) -> int:
    """The output frame the thumbnail shows."""
    frame = frame_at(_thumbnail_ms(output, total_ms), output.fps)
    # a timeline of one or two frames: the middle may round past the last frame (0.1 s at 12 fps)
    return min(frame, frame_at(total_ms, output.fps) - 1)


def _thumbnail_ms(output: spec.Output, total_ms: int) -> int:
    """One second in (past a fade from black), the middle of a shorter video, or as asked."""
    if output.thumbnail_ms is None:
        return min(1000, total_ms // 2)
    return max(0, min(output.thumbnail_ms, total_ms - 1000 // output.fps))
