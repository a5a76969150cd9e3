"""build(): a planned timeline and its staged sources become one filter graph.

The clips become segments (graph/segments.py) joined in order (graph/join.py), or, for a long
timeline, pictures fed by parts (graph/parts.py); then overlays, text, the mix and the
thumbnail. With renditions, every shape is made of the same decoded inputs
(GraphBuilder.sharing): its own fit, join, overlays, text document and thumbnail; one mix.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace

from vidsvc import spec
from vidsvc.graph import audio, parts, pictures, text, window
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.join import join, join_video
from vidsvc.graph.loudness import Measured
from vidsvc.graph.model import FontFace, Graph, Source
from vidsvc.graph.segments import frame_at, segments
from vidsvc.graph.slots import refit
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
    *,
    sound: bool = True,
) -> Graph:
    """The whole render as one graph. Its outputs are the first shape's (video, audio,
    thumbnail) pads, then (video, thumbnail) of each further rendition; the audio pad is ""
    for an animated image, which has no sound, and without `sound` (a split render's video
    part: graph/split.py).

    `loudness` is the plain mix's measured loudness (graph/loudness.py), a fact like the probes:
    with a loudness target and no measurement yet, the mix is built as it sums. `holes`: per
    clip (its place in the whole timeline, a range's too), frames left black instead of
    decoded (graph/holes.py).
    `part_clips`: a timeline of more clips has its pictures made by parts of this many clips,
    fed to this graph one after another (graph/parts.py); 0: all in this graph."""
    g = GraphBuilder()
    out = comp.output
    win = window.cut(timeline, out) if out.range is not None else None
    placed = timeline if win is None else win.timeline  #: the clips this graph builds
    if win is not None and holes:
        holes = win.own(holes)
    feeds: tuple[Graph, ...] = ()
    joined: Graph | None = None
    shapes = out.shapes()
    silent = out.animated or not sound
    if parts.split(len(placed.clips), part_clips) and not holes:
        joined = None if silent else parts.sound_graph(placed, comp, sources)
        bed = "" if silent else parts.sound(g)
        videos = parts.fed(g, [shape.size for shape in shapes], out.fps)
        feeds = tuple(
            parts.part_graph(placed, comp, sources, first, end)
            for first, end in parts.ranges(len(placed.clips), part_clips)
        )
    else:
        videos, bed = _joined(g, placed, comp, sources, holes or {}, silent)
    pads, mixed = _finished(g, videos, bed, timeline, comp, sources, fonts, loudness, win)
    return g.finish(pads[0], mixed, pads[1], *pads[2:], feeds=feeds, sound=joined)


def _finished(
    g: GraphBuilder,
    videos: Sequence[str],
    bed: str,
    timeline: Timeline,
    comp: spec.Composition,
    sources: Mapping[str, Source],
    fonts: Mapping[str, FontFace],
    loudness: Measured | None,
    win: window.Window | None,
) -> tuple[list[str], str]:
    """Each shape's (video, thumbnail) pads, drawn over its joined pictures and cut to the
    range, and the mix of the clips' sound `bed` ("" for none)."""
    pads: list[str] = []
    mixed = ""
    rendered_ms = window.rendered_ms(comp.output, timeline.duration_ms)
    for number, (shape, video) in enumerate(zip(comp.output.shapes(), videos, strict=True)):
        shaped = replace(comp, output=shape)
        with g.sharing() if number else contextlib.nullcontext():  # its overlays' inputs
            drawn, heard = _drawn(g, video, bed if number == 0 else "", timeline, shaped,
                                  sources, fonts, win, number)  # fmt: skip
        if number == 0 and heard:
            mixed = audio.mix(g, heard, comp.audio, timeline, sources, loudness, win)
        if win is not None:
            drawn = _ranged_video(g, drawn, win)
            mixed = _ranged_sound(g, mixed, win) if number == 0 and mixed else mixed
        drawn, thumb = g.add_many("split", (drawn,), "vv", 2)
        pads += [drawn, _thumbnail(g, thumb, shape, rendered_ms)]
    return pads, mixed


def _joined(
    g: GraphBuilder,
    placed: Timeline,
    comp: spec.Composition,
    sources: Mapping[str, Source],
    holes: Mapping[int, Sequence[tuple[int, int]]],
    silent: bool,
) -> tuple[list[str], str]:
    """Every shape's joined pictures, each from the same decoded inputs, and the clips'
    sound ("" when `silent`)."""
    videos, bed = [], ""
    for number, shape in enumerate(comp.output.shapes()):
        fitted = refit(placed, shape.fit)
        if number or silent:
            with g.sharing() if number else contextlib.nullcontext():
                made = segments(g, fitted, shape, sources, holes, want="video")
                videos.append(join_video(g, made, shape.fps))
        else:
            video, bed = join(g, segments(g, fitted, shape, sources, holes), shape.fps)
            videos.append(video)
    return videos, bed


def _drawn(
    g: GraphBuilder,
    video: str,
    bed: str,
    timeline: Timeline,
    comp: spec.Composition,
    sources: Mapping[str, Source],
    fonts: Mapping[str, FontFace],
    win: window.Window | None,
    number: int,
) -> tuple[str, str]:
    """One shape's joined pictures with the overlays and text drawn for its own frame, as the
    range shows them; the first shape also mixes the video overlays' sound into `bed`."""
    out = comp.output
    if win is not None and win.origin_frame:  # onto the full timeline's clock
        video = g.chain(video, ("setpts", {"expr": f"PTS+{win.origin_frame}/({out.fps}*TB)"}))
    video, bed = pictures.draw(g, video, bed, comp, timeline.duration_ms, sources, win)
    video = text.draw(g, video, timeline, comp, fonts, document=text.document_name(number))
    return video, bed


def _ranged_video(g: GraphBuilder, video: str, win: window.Window) -> str:
    """The range's frames alone, from time 0."""
    first, end = win.frames()
    return g.chain(
        video,
        ("trim", {"start_frame": first, "end_frame": end}),
        ("setpts", {"expr": "PTS-STARTPTS"}),
    )


def _ranged_sound(g: GraphBuilder, sound: str, win: window.Window) -> str:
    """The range's samples alone, from time 0."""
    first_sample, end_sample = win.samples(audio.RATE)
    return g.chain(
        sound,
        ("atrim", {"start_sample": first_sample, "end_sample": end_sample}),
        ("asetpts", {"expr": "PTS-STARTPTS"}),
    )


def _thumbnail(g: GraphBuilder, pad: str, out: spec.Output, rendered_ms: int) -> str:
    """The shape's thumbnail: one frame, its long side at most THUMB_WIDTH."""
    frame = thumbnail_frame(out, rendered_ms)
    thumb = g.add("trim", (pad,), start_frame=frame, end_frame=frame + 1)
    if max(out.size) > THUMB_WIDTH:  # the long side, whatever the shape
        wide = out.size[0] >= out.size[1]
        size = {"w": THUMB_WIDTH, "h": -2} if wide else {"w": -2, "h": THUMB_WIDTH}
        thumb = g.add("scale", (thumb,), **size)
    return thumb


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
