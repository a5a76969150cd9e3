"""build(): a planned timeline and its staged sources become one filter graph.

The clips become segments (graph/segments.py) joined in order (graph/join.py), or, for a long
timeline, pictures fed by parts (graph/parts.py); then overlays, text, the mix and the
thumbnail.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vidsvc import spec
from vidsvc.graph import audio, parts, pictures, text
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
    feeds: tuple[Graph, ...] = ()
    joined: Graph | None = None
    if parts.split(len(timeline.clips), part_clips) and not holes:
        joined = parts.sound_graph(timeline, comp, sources)
        bed = parts.sound(g)
        video = parts.fed(g, out.size, out.fps)
        feeds = tuple(
            parts.part_graph(timeline, comp, sources, first, end)
            for first, end in parts.ranges(len(timeline.clips), part_clips)
        )
    else:
        video, bed = join(g, segments(g, timeline, out, sources, holes or {}), out.fps)
    video, bed = pictures.draw(g, video, bed, comp, timeline.duration_ms, sources)
    video = text.draw(g, video, timeline, comp, fonts)
    mixed = audio.mix(g, bed, comp.audio, timeline, sources, loudness)
    video, thumb = g.add_many("split", (video,), "vv", 2)
    thumb_frame = thumbnail_frame(comp.output, timeline.duration_ms)
    thumb = g.add("trim", (thumb,), start_frame=thumb_frame, end_frame=thumb_frame + 1)
    if max(comp.output.size) > THUMB_WIDTH:  # the long side, whatever the shape
        wide = comp.output.size[0] >= comp.output.size[1]
        size = {"w": THUMB_WIDTH, "h": -2} if wide else {"w": -2, "h": THUMB_WIDTH}
        thumb = g.add("scale", (thumb,), **size)
    return g.finish(video, mixed, thumb, feeds=feeds, sound=joined)


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
