"""The smart-render planner: which output frames can be copied from render-ready sources.

A frame can be *copied* when the one-pass render would hand the encoder exactly the source's
decoded frame: a clip of a render-ready source (media/spliceable.py) at the output's own size
and rate, with no colour preset, no motion, a fit that is the identity at that size (`contain`,
`cover`), outside every transition and fade, under no text event, caption or image/video
overlay, and inside the source's real frames (tpad's held frames are drawn). Everything else is
*encoded*. A copied run is then shrunk to whole GOPs of its source, from an IDR to the next
IDR (or to the source's end), because a splice can only start on an IDR; what is cut away
widens the encode spans around it.

All positions are output frame indices; clip frame j of a slot is source frame s0 + j, where
s0 is the first source frame at or after the trim (the one-pass render seeks with `-ss` and
keeps frames from the trim on). Text is read from the ASS document the graph draws, so what
is protected is exactly what libass will draw.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vidsvc import spec
from vidsvc.graph import pictures
from vidsvc.graph.model import Source
from vidsvc.graph.segments import frame_at
from vidsvc.graph.timeline import ClipSlot, Timeline

#: Below this share of frames copied, one pass. Measured (bench/measures/smart.py): a smart
#: render that copies nothing costs what one pass does (0.99x wall, 1.02x CPU) and one that
#: copies a third saves about a fifth, so the gain follows the share; under a tenth it is not
#: worth a join.
MIN_COPY_SHARE = 0.1
_TIME = r"(\d+):(\d\d):(\d\d)\.(\d\d)"
_DIALOGUE = re.compile(rf"^Dialogue: [^,]*,{_TIME},{_TIME},")

Span = tuple[int, int]  #: [first, end) in output frames


@dataclass(frozen=True, slots=True, kw_only=True)
class Ready:
    """What the planner needs of a render-ready source (media.renderready.Readiness)."""

    frames: int
    gop: int  #: frames from one IDR to the next, the first at frame 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Piece:
    start: int  #: first output frame
    frames: int
    source: str | None = None  #: the copied source's URL; None: encoded
    source_start: int = 0  #: copy: the source frame (an IDR) the piece starts on
    slot: int = 0  #: copy: the clip's place in the timeline

    @property
    def end(self) -> int:
        return self.start + self.frames


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    fps: int
    total_frames: int
    pieces: tuple[Piece, ...]  #: in output order, covering [0, total_frames) exactly

    @property
    def copied_frames(self) -> int:
        return sum(p.frames for p in self.pieces if p.source is not None)

    @property
    def encoded_frames(self) -> int:
        return self.total_frames - self.copied_frames

    @property
    def windows(self) -> tuple[Piece, ...]:
        """The encode spans, in output order."""
        return tuple(p for p in self.pieces if p.source is None)

    def summary(self) -> dict[str, object]:
        """For the job's metadata and /metrics."""
        return {
            "pieces": len(self.pieces),
            "copied_spans": len(self.pieces) - len(self.windows),
            "encoded_spans": len(self.windows),
            "copied_frames": self.copied_frames,
            "encoded_frames": self.encoded_frames,
            "copied_seconds": round(self.copied_frames / self.fps, 3),
            "encoded_seconds": round(self.encoded_frames / self.fps, 3),
            "spans": [self._span(p) for p in self.pieces],
        }

    def _span(self, p: Piece) -> dict[str, object]:
        times = {"start": round(p.start / self.fps, 3), "end": round(p.end / self.fps, 3)}
        if p.source is None:
            return {**times, "kind": "encode"}
        return {**times, "kind": "copy", "source": p.source, "source_frame": p.source_start}


def text_spans(ass_document: str | None, fps: int) -> list[Span]:
    """Frames on which libass may draw an event: the ass filter shows events with
    start <= t < end at a frame's time t in whole milliseconds, computed in floating point,
    so a frame exactly at the end may still show it (one more frame)."""
    spans: list[Span] = []
    for line in (ass_document or "").splitlines():
        found = _DIALOGUE.match(line)
        if found is None:
            continue
        h1, m1, s1, c1, h2, m2, s2, c2 = (int(x) for x in found.groups())
        start_cs = ((h1 * 60 + m1) * 60 + s1) * 100 + c1
        end_cs = ((h2 * 60 + m2) * 60 + s2) * 100 + c2
        spans.append((start_cs * fps // 100, math.ceil(end_cs * fps / 100) + 1))
    return spans


def layer_spans(
    comp: spec.Composition, total_ms: int, sources: Mapping[str, Source]
) -> list[Span]:
    """Frames an image or video overlay may cover (the overlay filter draws the picture whose
    time is at or before the frame's), one more at the end as for text."""
    durations = {u: s.duration_ms for u, s in sources.items() if not s.still}
    fps = comp.output.fps
    return [
        (s.start_ms * fps // 1000, math.ceil((s.start_ms + s.dur_ms) * fps / 1000) + 1)
        for s in pictures.place(comp, total_ms, durations)
    ]


def _subtract(span: Span, holes: Iterable[Span]) -> list[Span]:
    runs = [span]
    for a, b in holes:
        runs = [r for lo, hi in runs for r in ((lo, min(hi, a)), (max(lo, b), hi)) if r[0] < r[1]]
    return runs


def _clip_runs(
    i: int, slots: tuple[ClipSlot, ...], comp: spec.Composition, ready: Ready | None
) -> list[tuple[Span, int]]:
    """The slot's clean output frames as runs, each with its first source frame."""
    slot, fps = slots[i], comp.output.fps
    if ready is None or not slot.look.untouched:
        return []
    first, end = frame_at(slot.start_ms, fps), frame_at(slot.end_ms, fps)
    s0 = math.ceil(slot.in_ms * fps / 1000)
    end = min(end, first + ready.frames - s0)  # past the source's end tpad holds a frame
    holes: list[Span] = []
    if slot.look.fade_in_ms:
        holes.append((first, frame_at(slot.start_ms + slot.look.fade_in_ms, fps)))
    if i > 0 and spec.is_crossfade(slot.transition):
        holes.append((first, frame_at(slots[i - 1].end_ms, fps)))
    if i + 1 < len(slots) and spec.is_crossfade(slots[i + 1].transition):
        holes.append((frame_at(slots[i + 1].start_ms, fps), end))
    if slot.look.fade_out_ms:
        holes.append((frame_at(slot.end_ms, fps) - frame_at(slot.look.fade_out_ms, fps), end))
    return [(run, s0 + run[0] - first) for run in _subtract((first, end), holes)]


def _whole_gops(run: Span, source_first: int, ready: Ready) -> tuple[int, int, int] | None:
    """(output start, frames, source IDR) of the whole GOPs inside `run`, if any."""
    s_end = source_first + run[1] - run[0]
    s_in = -(-source_first // ready.gop) * ready.gop
    s_out = s_end if s_end == ready.frames else s_end // ready.gop * ready.gop
    if s_out <= s_in:
        return None
    return run[0] + s_in - source_first, s_out - s_in, s_in


def plan(
    timeline: Timeline,
    comp: spec.Composition,
    sources: Mapping[str, Source],
    ready: Mapping[str, Ready],
    ass_document: str | None,
) -> Plan:
    """Every output frame as copied or encoded (copies only from sources in `ready`)."""
    fps = comp.output.fps
    total = frame_at(timeline.duration_ms, fps)
    drawn = text_spans(ass_document, fps) + layer_spans(comp, timeline.duration_ms, sources)
    copies: list[Piece] = []
    for i, slot in enumerate(timeline.clips):
        for run, source_first in _clip_runs(i, timeline.clips, comp, ready.get(slot.source)):
            for clean in _subtract(run, drawn):
                gops = _whole_gops(clean, source_first + clean[0] - run[0], ready[slot.source])
                if gops is not None:
                    start, frames, idr = gops
                    piece = Piece(start=start, frames=frames, source=slot.source,
                                  source_start=idr, slot=i)  # fmt: skip
                    copies.append(piece)
    pieces: list[Piece] = []
    at = 0
    for copy in sorted(copies, key=lambda p: p.start):
        if copy.start > at:
            pieces.append(Piece(start=at, frames=copy.start - at))
        pieces.append(copy)
        at = copy.end
    if at < total:
        pieces.append(Piece(start=at, frames=total - at))
    return Plan(fps=fps, total_frames=total, pieces=tuple(pieces))


def holes(p: Plan, timeline: Timeline, thumbnail_frame: int) -> dict[int, list[Span]]:
    """Per clip (its place in the timeline), the copied frames relative to the clip's first,
    which the windows pass need not decode (graph/holes.py); never the thumbnail's frame,
    which that pass still draws."""
    found: dict[int, list[Span]] = {}
    for piece in p.pieces:
        if piece.source is None:
            continue
        first = frame_at(timeline.clips[piece.slot].start_ms, p.fps)
        spans = _subtract((piece.start, piece.end), [(thumbnail_frame, thumbnail_frame + 1)])
        found.setdefault(piece.slot, []).extend((a - first, b - first) for a, b in spans)
    return found


def worth_it(p: Plan) -> bool:
    return p.total_frames > 0 and p.copied_frames >= MIN_COPY_SHARE * p.total_frames
