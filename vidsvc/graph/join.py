"""join(): the timeline's segments (clips and gaps) become one video and one audio pad.

Memory is the reason for the shape. FFmpeg's CLI decodes an input whenever a filter asks for
its frames, and a file's audio and video are demuxed together. A nested chain of xfade and
acrossfade filters asks early: every acrossfade holds back the last `ns` samples of its first
input until that input ends, so with N crossfades the audio in front runs up to N overlaps ahead
of the output, reads later files early, and their decoded video waits inside the graph (16
clips of 4 s at 1080p: 4.0 GB peak, growing with every clip).

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
    return join_video(g, segments, fps), join_audio(g, segments)


def join_video(
    g: GraphBuilder,
    segments: Sequence[Segment],
    fps: int,
    *,
    after_head: bool = False,
    last_head_only: bool = False,
) -> str:
    """The segments' pictures in order, crossfaded where they overlap.

    A part of a timeline (graph/feed.py): `after_head` starts after the first segment's head,
    which an earlier part blended; `last_head_only` takes only the last segment's head, for
    the blend that ends this part."""
    pads: list[str] = []
    tail = ""
    segments = [s for s in segments if s.video]  # a sub-frame gap is only silence
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        out = segments[i + 1].overlap_frames if i < last else 0
        head = seg.overlap_frames
        if i == last and last_head_only:
            out = seg.frames - head  # the rest is never read
        keep_head = not (i == 0 and after_head)
        keep_rest = not (i == last and last_head_only)
        head_v, body_v, next_tail = _pieces(
            g,
            seg.video,
            seg.frames,
            head,
            out,
            video=True,
            keep_head=keep_head,
            keep_rest=keep_rest,
        )
        if head_v:
            shape = "fade" if seg.transition == "crossfade" else seg.transition
            duration = head / fps
            pads.append(g.add("xfade", (tail, head_v), transition=shape, duration=duration,
                              offset=0))  # fmt: skip
        pads += [body_v] if body_v else []
        tail = next_tail
    if len(pads) == 1:
        return pads[0]
    joined = g.add("concat", pads, n=len(pads), v=1, a=0)
    # concat dates each segment by its frames' mean spacing (a one-frame segment ends where
    # it starts): the frames get the times one pass gives them, from their numbers
    return g.chain(joined, ("setpts", {"expr": f"round(N/({fps}*TB))"}))


def join_audio(g: GraphBuilder, segments: Sequence[Segment]) -> str:
    """The segments' sound in order, crossfaded (acrossfade) where the pictures overlap."""
    pads: list[str] = []
    tail = ""
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        crossfaded = seg.overlap_frames > 0
        out = segments[i + 1].overlap_samples if i < last and segments[i + 1].overlap_frames else 0
        head = seg.overlap_samples if crossfaded else 0
        head_a, body_a, next_tail = _pieces(g, seg.audio, seg.samples, head, out, video=False)
        if head_a:
            pads.append(g.add_audio("acrossfade", (tail, head_a), ns=seg.overlap_samples))
        pads += [body_a] if body_a else []
        tail = next_tail
    if len(pads) == 1:
        return pads[0]
    return g.add_audio("concat", pads, n=len(pads), v=0, a=1)


def _pieces(
    g: GraphBuilder,
    pad: str,
    length: int,
    head: int,
    tail: int,
    *,
    video: bool,
    keep_head: bool = True,
    keep_rest: bool = True,
) -> tuple[str, str, str]:
    """A segment cut into (head, body, tail) pads, each starting at time 0; '' where empty or
    not kept (`keep_head`: the head; `keep_rest`: body and tail).

    One split feeds every piece; each piece's trim drops the frames that are not its own as
    they pass, so a piece waiting for its turn holds only its own frames."""
    spans = [(0, head), (head, length - tail), (length - tail, length)]
    kept = [keep_head, keep_rest, keep_rest]
    wanted = [(a, b) for (a, b), keep in zip(spans, kept, strict=True) if keep and b > a]
    if not wanted:  # no frames at all (a clip shorter than half a frame): an empty body
        return "", pad, ""
    if len(wanted) == 1:  # one piece: no split (trimmed below unless it is the whole)
        outs: tuple[str, ...] = (pad,)
    elif video:
        outs = g.add_many("split", (pad,), "v" * len(wanted), len(wanted))
    else:
        outs = g.add_many("asplit", (pad,), "a" * len(wanted), len(wanted))
    pads = iter(outs)
    result: list[str] = []
    for (first, end), keep in zip(spans, kept, strict=True):
        if not keep or end <= first:
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
