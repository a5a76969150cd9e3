"""Parts: a long timeline's pictures made a few clips at a time, fed to the main graph.

FFmpeg 5.1 keeps every input's demuxer, decoder (with its threads and frame pools) and filter
chain until it exits, so one graph holding all the clips grows by 20 to 35 MiB of memory and
about 100 MiB of address space per clip, whatever the graph's shape (graph/memory.py). So a
timeline of more than `part_clips` clips is rendered by one main FFmpeg that reads its pictures
from a pipe (raw yuv420p at the output's size and rate) and, one after another, short-lived
FFmpeg parts that write them there, each opening only its clips. A part ends on the blend into
the next part's first clip (it opens that clip for the blend's frames only); the next part
starts after that blend. Sound, overlays, text, the mix and the encoder stay in the main graph,
which opens every clip's sound (a demuxer and an audio decoder: about 1.5 MiB each). What is
open at any moment is the main graph and one part: flat in the number of clips.

The pictures are the one graph's: every part uses the same clip chains and the same join
(graph/join.py), and the main graph gives the frames the times one graph gives them.

With renditions (several shapes of one video), a part makes every shape from one decode of its
clips (GraphBuilder.sharing) and writes them as one frame, the shapes stacked top to bottom
(`stacked`); the main graph cuts them apart again. One pipe, one writer, one reader: no
ordering between pipes to deadlock on.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping, Sequence

from vidsvc import spec
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.join import join_audio, join_video
from vidsvc.graph.model import FEED, SOUND, Graph, Source
from vidsvc.graph.segments import frame_at, segments
from vidsvc.graph.slots import refit
from vidsvc.graph.timeline import ClipSlot, Timeline


def split(clips: int, part_clips: int) -> bool:
    """Whether a timeline of `clips` is made by parts (`part_clips` 0: never)."""
    return 0 < part_clips < clips


def ranges(clips: int, part_clips: int) -> list[tuple[int, int]]:
    """Clip index ranges [first, end) of the parts, in order: as few parts as `part_clips`
    allows, of sizes that differ by one at most (10 clips: 5 and 5, not 8 and 2; a render's
    peak is its largest part's)."""
    count = -(-clips // part_clips)
    size, extra = divmod(clips, count)
    bounds = [0]
    for i in range(count):
        bounds.append(bounds[-1] + size + (1 if i < extra else 0))
    return list(itertools.pairwise(bounds))


def sound(g: GraphBuilder) -> str:
    """The clips' joined sound, as the sound pass wrote it, as the main graph's bed."""
    index = g.input(SOUND)
    return g.chain(
        f"{index}:a",
        ("aformat", {"sample_fmts": "fltp", "sample_rates": 48_000, "channel_layouts": "stereo"}),
    )


def stacked(sizes: Sequence[tuple[int, int]]) -> tuple[int, int, list[int]]:
    """(width, height, each shape's top) of one frame that holds every shape, one under the
    other, left-aligned (every side is even, so yuv420p's half-size chroma lines up)."""
    tops = list(itertools.accumulate((h for _, h in sizes[:-1]), initial=0))
    return max(w for w, _ in sizes), sum(h for _, h in sizes), tops


def fed(g: GraphBuilder, sizes: Sequence[tuple[int, int]], fps: int) -> list[str]:
    """The parts' pictures as the main graph's video pads (one per shape), timed as one
    graph times them."""
    w, h, tops = stacked(sizes)
    options = ("-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{w}x{h}",
               "-framerate", str(fps))  # fmt: skip
    index = g.input(FEED, options, raw=True)
    video = g.chain(
        f"{index}:v",
        ("setsar", {"r": 1}),
        ("settb", {"expr": "AVTB"}),
        ("setpts", {"expr": f"round(N/({fps}*TB))"}),
    )
    if len(sizes) == 1:
        return [video]
    copies = g.add_many("split", (video,), "v" * len(sizes), len(sizes))
    return [
        g.add("crop", (pad,), w=sw, h=sh, x=0, y=top, exact=1)
        for pad, (sw, sh), top in zip(copies, sizes, tops, strict=True)
    ]


def sound_graph(
    timeline: Timeline, comp: spec.Composition, sources: Mapping[str, Source]
) -> Graph:
    """The clips' sound joined, for a render made by parts (graph/parts.py)."""
    g = GraphBuilder()
    made = segments(g, timeline, comp.output, sources, want="audio")
    return g.finish(join_audio(g, made))


def part_graph(
    timeline: Timeline,
    comp: spec.Composition,
    sources: Mapping[str, Source],
    first: int,
    end: int,
) -> Graph:
    """Clips [first, end) of the timeline's pictures, as one part: from where the blend into
    clip `first` ended (an earlier part made it) through the blend into clip `end`; in every
    shape of the output, stacked (`stacked`)."""
    g = GraphBuilder()
    clips, fps = timeline.clips, comp.output.fps
    blend_out = end < len(clips) and _overlap_frames(clips[end - 1], clips[end], fps) > 0
    videos = []
    for number, shape in enumerate(comp.output.shapes()):
        with g.sharing() if number else contextlib.nullcontext():
            made = segments(
                g, refit(timeline, shape.fit), shape, sources, want="video", first=first,
                end=end + 1 if blend_out else end,
            )  # fmt: skip
            after = first > 0 and made[0].overlap_frames > 0
            videos.append(join_video(g, made, fps, after_head=after, last_head_only=blend_out))
    return g.finish(_stack(g, videos, [shape.size for shape in comp.output.shapes()]))


def _stack(g: GraphBuilder, videos: list[str], sizes: list[tuple[int, int]]) -> str:
    """The shapes' pictures as one frame (`stacked`)."""
    if len(videos) == 1:
        return videos[0]
    width, _, _ = stacked(sizes)
    padded = [
        g.add("pad", (video,), w=width, h=h, x=0, y=0) if w < width else video
        for video, (w, h) in zip(videos, sizes, strict=True)
    ]
    return g.add("vstack", padded, inputs=len(padded))


def _overlap_frames(prev: ClipSlot, slot: ClipSlot, fps: int) -> int:
    if not spec.is_crossfade(slot.transition):
        return 0
    return frame_at(prev.end_ms, fps) - frame_at(slot.start_ms, fps)
