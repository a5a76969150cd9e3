"""Image and video overlays (`overlays[]` of type image/video, docs/contract.md §3.1),
drawn in list order over the joined clips and under the text.

Each overlay is its own input, cut to its window before anything per-pixel: a video overlay is
seeked (`-ss`) and trimmed to its frames, an image is one frame scaled once and then held by
`tpad`. `setpts` then moves it to its start on the timeline, so nothing is decoded or scaled for
the parts of the timeline where it is not shown, and `overlay` with `eof_action=pass` lets the
clips through before it starts and after it ends. Opacity scales the alpha channel; PNG and
WebP transparency is kept (the overlay is converted to a format with alpha, never flattened).

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vidsvc import spec
from vidsvc.errors import InvalidTimeline
from vidsvc.graph.builder import Arg, GraphBuilder, fmt
from vidsvc.graph.model import Source
from vidsvc.graph.pcm import RATE, normalized
from vidsvc.graph.window import Window

#: A video overlay's length before its source is probed: unbounded (the timeline bounds it).
MAX_UNPROBED_MS = 10**12
#: Named anchors sit this share of the output's short side in from the edge.
SAFE_MARGIN = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class PictureSlot:
    picture: spec.ImageOverlay | spec.VideoOverlay
    start_ms: int
    dur_ms: int


def _secs(ms: int) -> str:
    return f"{ms / 1000:.3f}"


def place(
    comp: spec.Composition, total_ms: int, durations: Mapping[str, int]
) -> tuple[PictureSlot, ...]:
    """Each overlay's window on the timeline; InvalidTimeline naming the overlay's field."""
    slots: list[PictureSlot] = []
    for picture in comp.pictures:
        p = f"overlays[{comp.place_of(picture)}]"
        if picture.start_ms >= total_ms:
            at, end_s = _secs(picture.start_ms), _secs(total_ms)
            why = f"{at} s is past the end of the timeline ({end_s} s)"
            raise InvalidTimeline.at(f"{p}.start_time", why)
        end = total_ms if picture.duration_ms is None else picture.start_ms + picture.duration_ms
        if isinstance(picture, spec.VideoOverlay):
            end = min(end, picture.start_ms + _video_length(p, picture, durations))
        dur = min(end, total_ms) - picture.start_ms
        if picture.fade_in_ms + picture.fade_out_ms > dur:
            long = f"fade_in + fade_out are longer than the overlay is shown ({_secs(dur)} s)"
            raise InvalidTimeline.at(f"{p}.fade_in", long)
        slots.append(PictureSlot(picture=picture, start_ms=picture.start_ms, dur_ms=dur))
    return tuple(slots)


def _video_length(p: str, picture: spec.VideoOverlay, durations: Mapping[str, int]) -> int:
    source = durations.get(picture.url)
    if picture.trim_end_ms is not None:
        if picture.trim_end_ms <= picture.trim_start_ms:
            raise InvalidTimeline.at(f"{p}.trim_end", "must be after trim_start")
        return picture.trim_end_ms - picture.trim_start_ms
    if source is None:  # not probed yet (at submit): only the timeline bounds it
        return MAX_UNPROBED_MS
    if picture.trim_start_ms >= source:
        raise InvalidTimeline.at(
            f"{p}.trim_start", f"is past the source's end ({_secs(source)} s)"
        )
    return source - picture.trim_start_ms


def _anchor(value: str | int, axis: str, margin: int) -> str:
    if isinstance(value, int):
        return str(value)
    outer, inner = ("W", "w") if axis == "x" else ("H", "h")
    return {
        "center": f"({outer}-{inner})/2",
        "left": str(margin),
        "top": str(margin),
        "right": f"{outer}-{inner}-{margin}",
        "bottom": f"{outer}-{inner}-{margin}",
    }[value]


def _look(picture: spec.ImageOverlay) -> list[tuple[str, dict[str, Arg]]]:
    """Size (aspect kept), alpha, opacity and fades: the per-pixel part of an overlay."""
    steps: list[tuple[str, dict[str, Arg]]] = []
    if picture.width is not None:
        steps.append(("scale", {"w": picture.width, "h": -2}))
    elif picture.height is not None:
        steps.append(("scale", {"w": -2, "h": picture.height}))
    if picture.opacity < 1.0:  # colorchannelmixer works in RGB: give it RGBA, not YUVA
        steps.append(("format", {"pix_fmts": "rgba"}))
        steps.append(("colorchannelmixer", {"aa": fmt(picture.opacity)}))
    else:
        steps.append(("format", {"pix_fmts": "yuva420p"}))
    return steps


def _fades(picture: spec.ImageOverlay, dur_ms: int) -> list[tuple[str, dict[str, Arg]]]:
    steps: list[tuple[str, dict[str, Arg]]] = []
    if picture.fade_in_ms:
        steps.append(("fade", {"t": "in", "st": 0, "d": _secs(picture.fade_in_ms), "alpha": 1}))
    if picture.fade_out_ms:
        start = _secs(dur_ms - picture.fade_out_ms)
        steps.append(("fade", {"t": "out", "st": start, "d": _secs(picture.fade_out_ms),
                               "alpha": 1}))  # fmt: skip
    return steps


def _picture(
    g: GraphBuilder, slot: PictureSlot, source: Source, fps: int
) -> tuple[str, int | None]:
    """The overlay's frames at their place on the timeline, and its input (None: a still)."""
    picture = slot.picture
    frames = max(1, round(slot.dur_ms * fps / 1000))
    shift: tuple[str, dict[str, Arg]] = (
        "setpts",
        {"expr": f"PTS-STARTPTS+{fmt(slot.start_ms / 1000)}/TB"},
    )
    if source.still:
        index = g.input(source.name, source.open_options)
        held = g.chain(
            f"{index}:v",
            ("setpts", {"expr": "PTS-STARTPTS"}),
            *_look(picture),  # scaled once, then repeated
            ("loop", {"loop": frames, "size": 1, "start": 0}),
            ("setpts", {"expr": f"N/({fps}*TB)"}),
            ("fps", {"fps": fps}),
            ("trim", {"end_frame": frames}),
            *_fades(picture, slot.dur_ms),
            shift,
        )
        return held, None
    trim_start = picture.trim_start_ms if isinstance(picture, spec.VideoOverlay) else 0
    options = ("-ss", _secs(trim_start)) if trim_start else ()
    index = g.input(source.name, (*source.open_options, *options, "-t", _secs(slot.dur_ms + 100)))
    return g.chain(
        f"{index}:v",
        ("setpts", {"expr": "PTS-STARTPTS"}),
        ("fps", {"fps": fps}),
        ("trim", {"end_frame": frames}),
        *_look(picture),
        *_fades(picture, slot.dur_ms),
        shift,
    ), index


def _sound(
    g: GraphBuilder, index: int, slot: PictureSlot, volume: float, bed: tuple[int, int]
) -> str:
    """A video overlay's audio at `volume`, placed at its start, as long as the bed, which
    is (origin, length) of the timeline (graph/window.py)."""
    origin, total_ms = bed
    samples = total_ms * RATE // 1000
    at = slot.start_ms - origin
    place: tuple[tuple[str, dict[str, Arg]], ...] = (("adelay", {"delays": str(at), "all": 1}),)
    if at < 0:  # it began before the window: its sound from the window's start
        early: dict[str, Arg] = {"start_sample": -at * RATE // 1000}
        place = (("atrim", early), ("asetpts", {"expr": "PTS-STARTPTS"}))
    return g.chain(
        normalized(g, f"{index}:a"),
        ("atrim", {"end_sample": slot.dur_ms * RATE // 1000}),
        ("volume", {"volume": volume}),
        *place,
        ("apad", {"whole_len": samples}),
        ("atrim", {"end_sample": samples}),
    )


def draw(
    g: GraphBuilder,
    video: str,
    bed: str,
    comp: spec.Composition,
    total_ms: int,
    sources: Mapping[str, Source],
    window: Window | None = None,
) -> tuple[str, str]:
    """Every image/video overlay over `video`, in order; video overlays' sound mixed into `bed`
    ("": pictures only, as another rendition's or an animated image's).

    With a range's `window` (graph/window.py), `video` is on the full timeline's clock, `bed`
    is the window's, and an overlay not shown in the range is not drawn (a video overlay begun
    before the range is decoded from its start)."""
    if not comp.pictures:
        return video, bed
    durations = {u: s.duration_ms for u, s in sources.items() if not s.still}
    margin = round(min(comp.output.size) * SAFE_MARGIN)
    origin, first, end, bed_ms = 0, 0, total_ms, total_ms
    if window is not None:
        origin, first, end = window.origin_ms, window.start_ms, window.end_ms
        bed_ms = window.timeline.duration_ms
    tracks = [bed]
    for slot in place(comp, total_ms, durations):
        if slot.start_ms + slot.dur_ms <= first or slot.start_ms >= end:
            continue
        source = sources[slot.picture.url]
        drawn, index = _picture(g, slot, source, comp.output.fps)
        video = g.add(
            "overlay",
            (video, drawn),
            x=_anchor(slot.picture.x, "x", margin),
            y=_anchor(slot.picture.y, "y", margin),
            eof_action="pass",
        )
        picture = slot.picture
        if isinstance(picture, spec.VideoOverlay) and picture.volume > 0 and index is not None:
            if bed and source.has_audio:
                tracks.append(_sound(g, index, slot, picture.volume, (origin, bed_ms)))
    if len(tracks) > 1:
        bed = g.add_audio("amix", tracks, inputs=len(tracks), normalize=0, duration="first")
    return video, bed
