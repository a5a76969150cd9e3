"""A timeline's clips and gaps as segments of the graph, each normalized on its own.

Every clip is normalized inside the graph (constant fps, fit and letterbox, SAR 1, yuv420p,
AVTB timebase) before any xfade, because xfade needs identical size, rate, format and timebase.
Video boundaries are rounded to frames and audio boundaries to samples from *absolute* times,
so rounding never accumulates into drift along a long timeline. graph/join.py joins them.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vidsvc import spec
from vidsvc.graph import audio, extend, fit, grade, motion
from vidsvc.graph import holes as cut
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.join import Segment
from vidsvc.graph.model import Source
from vidsvc.graph.pcm import RATE
from vidsvc.graph.timeline import ClipSlot, Timeline

#: Colour presets as cheap YUV-domain filters (no RGB round trip on the hot path).
COLOR_FILTERS: dict[str, tuple[tuple[str, dict[str, str | int | float]], ...]] = {
    "none": (),
    "warm": (("lutyuv", {"u": "val-12", "v": "val+12"}),),
    "cool": (("lutyuv", {"u": "val+12", "v": "val-12"}),),
    "vivid": (("eq", {"saturation": 1.45, "contrast": 1.08}),),
    "muted": (("eq", {"saturation": 0.5, "contrast": 0.94}),),
    "bw": (("hue", {"s": 0}),),
}


def still_frames(frames: int, fps: int) -> tuple[tuple[str, dict[str, str | int | float]], ...]:
    """One decoded image as `frames` frames at `fps`. The image has no duration, so `fps` alone
    would drop it; `loop` repeats it and `setpts` gives the copies their times."""
    return (
        ("loop", {"loop": frames, "size": 1, "start": 0}),
        ("setpts", {"expr": f"N/({fps}*TB)"}),
        ("fps", {"fps": fps}),
        ("trim", {"end_frame": frames}),
    )


def frame_at(ms: int, fps: int) -> int:
    return round(ms * fps / 1000)


def segments(
    g: GraphBuilder,
    timeline: Timeline,
    out: spec.Output,
    sources: Mapping[str, Source],
    holes: Mapping[int, Sequence[tuple[int, int]]] | None = None,
    *,
    want: str = "both",
    first: int = 0,
    end: int | None = None,
) -> list[Segment]:
    """Clips [first, end) and the gaps before them as segments; `want`: "both", "video" (no
    sound input opened) or "audio" (no picture input opened)."""
    made: list[Segment] = []
    clips = timeline.clips
    prev: ClipSlot | None = clips[first - 1] if first > 0 else None
    for i in range(first, len(clips) if end is None else end):
        slot = clips[i]
        prev_end = prev.end_ms if prev else 0
        if slot.start_ms > prev_end:
            made.extend(_gap(g, prev_end, slot.start_ms, out, want))
        gaps = (holes or {}).get(i, ())
        made.append(_clip(g, slot, out, sources[slot.source], prev, gaps, want))
        prev = slot
    return made


def _gap(
    g: GraphBuilder, start_ms: int, end_ms: int, out: spec.Output, want: str = "both"
) -> list[Segment]:
    """Black and silence between clips (or before the first). A gap shorter than half a
    frame has no picture but keeps its silence, so the sound after it stays in place."""
    frames = frame_at(end_ms, out.fps) - frame_at(start_ms, out.fps)
    samples = (end_ms - start_ms) * RATE // 1000
    if frames <= 0 and (samples <= 0 or want == "video"):
        return []
    w, h = out.size
    video = ""
    if want != "audio" and frames > 0:
        video = g.add("color", (), c="black", s=f"{w}x{h}", r=out.fps)
        video = g.chain(
            video,
            ("trim", {"end_frame": frames}),
            ("format", {"pix_fmts": "yuv420p"}),
            ("setsar", {"r": 1}),
            ("settb", {"expr": "AVTB"}),
        )
    silence = audio.silence(g, samples) if want != "video" else ""
    return [
        Segment(
            video=video,
            audio=silence,
            frames=frames,
            samples=samples,
            overlap_frames=0,
            overlap_samples=0,
            transition="cut",
        )
    ]


def _clip(
    g: GraphBuilder,
    slot: ClipSlot,
    out: spec.Output,
    source: Source,
    prev: ClipSlot | None,
    holes: Sequence[tuple[int, int]] = (),
    want: str = "both",
) -> Segment:
    """One clip: seek by input options, normalize, colour, trim to exact frames, fades."""
    options: tuple[str, ...] = source.open_options
    if slot.in_ms > 0 and not source.still:
        options += ("-ss", _secs(slot.in_ms))
    # decode only what is used (tpad covers a short end); an extended clip, its range
    used = slot.source_ms if slot.extended_ms else slot.dur_ms + 100
    options += ("-t", _secs(used))
    frames = frame_at(slot.end_ms, out.fps) - frame_at(slot.start_ms, out.fps)
    video = sound = ""
    if want != "audio":
        video = _picture(g, slot, out, source, options, frames, holes)
    if want != "video":
        # Picture and sound come from two demuxers of one file: a transition's sound is read
        # ahead of its pictures (acrossfade waits for the outgoing track's end), and one
        # demuxer would decode the pictures with it, to wait in the graph (graph/join.py).
        raw = None
        if source.has_audio and slot.extended_ms:
            raw = extend.sound(g, source, (*options, "-vn"), *_extension(slot))
        elif source.has_audio:
            raw = f"{g.input(source.name, (*options, '-vn'))}:a"
        sound = audio.clip_track(g, raw, slot)
    fps = out.fps
    overlap_ms = prev.end_ms - slot.start_ms if prev and spec.is_crossfade(slot.transition) else 0
    return Segment(
        video=video,
        audio=sound,
        frames=frames,
        samples=slot.dur_ms * RATE // 1000,
        overlap_frames=frame_at(slot.start_ms + overlap_ms, fps) - frame_at(slot.start_ms, fps),
        overlap_samples=overlap_ms * RATE // 1000,
        transition=slot.transition,
    )


def _picture(
    g: GraphBuilder,
    slot: ClipSlot,
    out: spec.Output,
    source: Source,
    options: tuple[str, ...],
    frames: int,
    holes: Sequence[tuple[int, int]],
) -> str:
    """A clip's pictures: decoded (with holes: from other inputs, graph/holes.py), then its
    look (graph/look.py) drawn: fitted, moved, graded, coloured and faded, exactly `frames`
    long."""
    w, h = out.size
    look = slot.look
    if holes:
        raw = cut.video(g, source, slot.in_ms, frames, out.fps, out.size, holes)
        video = fit.fit(g, raw, w, h, look.fit)
    else:
        opened = (*options, "-an") if source.has_audio else options
        if slot.extended_ms and not source.still:
            pad = extend.video(g, source, opened, *_extension(slot))
            video = g.chain(pad, *cut.exact_frames(frames, out.fps, slot.dur_ms))
        else:
            pad = f"{g.input(source.name, opened)}:v"
            video = _decoded(g, pad, source.still, frames, slot.dur_ms, out.fps)
        video = fit.fit(g, video, w, h, look.fit)
        if source.still:
            video = g.chain(video, *still_frames(frames, out.fps))
    video = motion.move(g, video, look.motion, look.motion_amount, frames)
    steps: list[tuple[str, dict[str, str | int | float]]] = [
        ("setsar", {"r": 1}),
        ("format", {"pix_fmts": "yuv420p"}),
        # the grade works on the output-sized picture, and the preset on the graded one
        *grade.steps(look.grade),
        *COLOR_FILTERS[look.color],
    ]
    fps = out.fps
    if look.fade_in_ms:
        steps.append(("fade", {"t": "in", "st": 0, "d": _secs(look.fade_in_ms)}))
    if look.fade_out_ms:
        start = (frames - frame_at(look.fade_out_ms, fps)) / fps
        steps.append(("fade", {"t": "out", "st": start, "d": _secs(look.fade_out_ms)}))
    steps.append(("settb", {"expr": "AVTB"}))
    return g.chain(video, *steps)


def _decoded(g: GraphBuilder, pad: str, still: bool, frames: int, dur_ms: int, fps: int) -> str:
    """An input's video at `fps`, exactly `frames` long (a still: its one frame, fitted later
    and then repeated)."""
    video = g.chain(pad, ("setpts", {"expr": "PTS-STARTPTS"}))
    if still:
        return video
    return g.chain(video, *cut.exact_frames(frames, fps, dur_ms))


def _extension(slot: ClipSlot) -> tuple[str, int, int]:
    """(how, length, range) of an extended clip, as graph/extend.py draws it."""
    return slot.extend, slot.dur_ms, slot.source_ms


def _secs(ms: int) -> str:
    return f"{ms / 1000:.3f}"
