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

Pure: imports only vidsvc.graph.
"""

from __future__ import annotations

from vidsvc.graph.builder import GraphBuilder

#: The pipe the parts write and the main FFmpeg reads (a FIFO in the render's workspace).
FEED = "pictures.fifo"
#: The clips' sound, joined by a short audio-only pass before the main FFmpeg starts.
SOUND = "sound.wav"


def split(clips: int, part_clips: int) -> bool:
    """Whether a timeline of `clips` is made by parts (`part_clips` 0: never)."""
    return 0 < part_clips < clips


def ranges(clips: int, part_clips: int) -> list[tuple[int, int]]:
    """Clip index ranges [first, end) of the parts, in order."""
    return [(i, min(i + part_clips, clips)) for i in range(0, clips, part_clips)]


def sound(g: GraphBuilder) -> str:
    """The clips' joined sound, as the sound pass wrote it, as the main graph's bed."""
    index = g.input(SOUND)
    return g.chain(
        f"{index}:a",
        ("aformat", {"sample_fmts": "fltp", "sample_rates": 48_000, "channel_layouts": "stereo"}),
    )


def fed(g: GraphBuilder, size: tuple[int, int], fps: int) -> str:
    """The parts' pictures as the main graph's video pad, timed as one graph times them."""
    w, h = size
    options = ("-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{w}x{h}",
               "-framerate", str(fps))  # fmt: skip
    index = g.input(FEED, options, raw=True)
    return g.chain(
        f"{index}:v",
        ("setsar", {"r": 1}),
        ("settb", {"expr": "AVTB"}),
        ("setpts", {"expr": f"round(N/({fps}*TB))"}),
    )
