"""join(): the timeline's segments (clips and gaps) become one video and one audio pad.

Memory is the reason for the shape. FFmpeg's CLI decodes an input whenever a filter asks for
its frames, and a file's audio and video are demuxed together. A nested chain of xfade and
acrossfade filters asks early: every acrossfade holds back the last `ns` samples of its first
input until that input ends, so with N crossfades the audio in front runs up to N overlaps ahead
of the output, reads later files early, and their decoded video waits inside the graph (16
clips of 4 s at 1080p: 4.0 GB peak, growing with every clip; issue 23).

So each transition is its own short segment: the outgoing clip's tail and the incoming clip's
head, each trimmed to exactly the overlap, blended by one xfade (acrossfade for the sound). The
clip bodies and these transition segments are joined in timeline order by one concat, which
reads one segment at a time, and `trim` drops what a branch does not need instead of queueing
it. What is live at any moment is one or two clips, whatever the timeline's length. The pictures
are today's: a transition segment is the same blend of the same frames at the same progress.

Pure: imports only vidsvc.graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vidsvc.graph.builder import Arg, GraphBuilder


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    video: str
    audio: str
    frames: int
    samples: int  #: the audio's exact length
    overlap_frames: int  #: > 0: joined to the previous segment by an xfade of this length
    overlap_samples: int  #: the same overlap for acrossfade, exact in samples
    transition: str


def join(g: GraphBuilder, segments: Sequence[Segment], fps: int) -> tuple[str, str]:
    """The segments in order, crossfaded where they overlap, as (video, audio) pads."""
    videos: list[str] = []
    sounds: list[str] = []
    tail_v = tail_a = ""
    for i, seg in enumerate(segments):
        nxt = segments[i + 1] if i + 1 < len(segments) else None
        out_frames = nxt.overlap_frames if nxt is not None else 0
        out_samples = nxt.overlap_samples if nxt is not None and out_frames > 0 else 0
        head_v, body_v, next_tail_v = _pieces(
            g, seg.video, seg.frames, seg.overlap_frames, out_frames, video=True
        )
        head_a, body_a, next_tail_a = _pieces(
            g, seg.audio, seg.samples, seg.overlap_samples if seg.overlap_frames > 0 else 0,
            out_samples, video=False,
        )  # fmt: skip
        if seg.overlap_frames > 0:
            shape = "fade" if seg.transition == "crossfade" else seg.transition
            videos.append(
                g.add(
                    "xfade",
                    (tail_v, head_v),
                    transition=shape,
                    duration=seg.overlap_frames / fps,
                    offset=0,
                )
            )
            sounds.append(g.add_audio("acrossfade", (tail_a, head_a), ns=seg.overlap_samples))
        videos += [body_v] if body_v else []
        sounds += [body_a] if body_a else []
        tail_v, tail_a = next_tail_v, next_tail_a
    return _concat(g, videos, sounds, fps)


def _pieces(
    g: GraphBuilder, pad: str, length: int, head: int, tail: int, *, video: bool
) -> tuple[str, str, str]:
    """A segment cut into (head, body, tail) pads, each starting at time 0; '' where empty.

    One split feeds every piece; each piece's trim drops the frames that are not its own as
    they pass, so a piece waiting for its turn holds only its own frames."""
    spans = [(0, head), (head, length - tail), (length - tail, length)]
    wanted = [(first, end) for first, end in spans if end > first]
    if len(wanted) == 1 and wanted[0] == (0, length):
        outs: tuple[str, ...] = (pad,)
    elif video:
        outs = g.add_many("split", (pad,), "v" * len(wanted), len(wanted))
    else:
        outs = g.add_many("asplit", (pad,), "a" * len(wanted), len(wanted))
    pads = iter(outs)
    result: list[str] = []
    for first, end in spans:
        if end <= first:
            result.append("")
            continue
        out = next(pads)
        if (first, end) != (0, length):
            out = _trimmed(g, out, first, end, video=video)
        result.append(out)
    return result[0], result[1], result[2]


def _trimmed(g: GraphBuilder, pad: str, first: int, end: int, *, video: bool) -> str:
    """Frames [first, end) of a video pad (samples of an audio one), restarting at time 0."""
    unit, prefix = ("frame", "") if video else ("sample", "a")
    bounds: dict[str, Arg] = {f"start_{unit}": first} if first else {}
    bounds[f"end_{unit}"] = end
    return g.chain(pad, (f"{prefix}trim", bounds), (f"{prefix}setpts", {"expr": "PTS-STARTPTS"}))


def _concat(g: GraphBuilder, videos: list[str], sounds: list[str], fps: int) -> tuple[str, str]:
    if len(videos) == 1:
        video = videos[0]
    else:
        joined = g.add("concat", videos, n=len(videos), v=1, a=0)
        # concat dates each segment by its frames' mean spacing (a one-frame segment ends where
        # it starts): the frames get the times one pass gives them, from their numbers
        video = g.chain(joined, ("setpts", {"expr": f"round(N/({fps}*TB))"}))
    audio = sounds[0] if len(sounds) == 1 else g.add_audio(
        "concat", sounds, n=len(sounds), v=0, a=1)  # fmt: skip
    return video, audio
