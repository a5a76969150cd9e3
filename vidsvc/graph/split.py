"""Long form (issue 27): one render split into parts on the GOP grid, each rendered apart and
joined without re-encoding into the frames one pass gives.

- `plan`: K video parts, their boundaries on the GOP grid (every boundary an IDR, so every part
  starts on one), moved onto a hard cut between clips when one is near (a part then opens only
  its own clips), each at least MIN_PART_MS, K about the timeline's length over `chunk_ms`,
  capped, then rounded to whole waves of the slots the live instances run parts in
  (`Sizing`). The grid is also a whole number of milliseconds (graph/window.py), so a part
  is exactly an `output.range` of the composition.
- A part is that range's graph (each input sought, trimmed after `fps`: the full render's
  frames), encoded without sound, with every option that reaches the parameter sets pinned
  (`part_args`), so the parts' SPS/PPS are byte-identical and join.
- The sound is one more part: the whole timeline's mix, once (`sound_argv`): AAC cannot be cut
  into pieces without priming gaps.
- The join is smart rendering's (graph/splice.py): the parts as pieces of a concat list by
  packet index, muxed with the sound (graph/split_pieces.py).
- With smart rendering (graph/splice_plan.py), the split holds the copied GOPs (`copies`):
  a part encodes only the encode spans inside its range, the copies are joined from their
  sources as in one smart render, and the seams balance the *encoded* frames.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from vidsvc import spec
from vidsvc.cliptask import RENDER_READY
from vidsvc.graph import render_ready, window
from vidsvc.graph.compile import Encoding, audio_codec, global_args, input_args, render_filter
from vidsvc.graph.model import Graph
from vidsvc.graph.prune import sound_only
from vidsvc.graph.segments import frame_at
from vidsvc.graph.splice_plan import Piece
from vidsvc.graph.timeline import Timeline

MIN_PART_MS = 20_000  #: a part shorter than this costs more in fixed work than it saves
GOP_SECONDS = 2  #: an IDR every 2 s: the boundaries' grid
PART_OUT = "part{index}.mp4"
THUMB_OUT = "thumb{index}.jpg"
#: H.264 levels by (max macroblocks per second, max frame size in macroblocks): the lowest
#: that holds the output, so every part asks for the same one (x264 picks refs by it).
LEVELS = ((31, 108_000, 3_600), (40, 245_760, 8_192), (42, 522_240, 8_704),
          (51, 983_040, 36_864), (52, 2_073_600, 36_864))  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    index: int
    first: int  #: first output frame
    end: int  #: one past the last

    @property
    def frames(self) -> int:
        return self.end - self.first

    def range(self, fps: int) -> spec.Range:
        """This part as an output.range (whole milliseconds: the plan's grid)."""
        start, stop = self.first * 1000 // fps, self.end * 1000 // fps
        return spec.Range(start_ms=start, duration_ms=stop - start)


@dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    fps: int
    frames: int  #: of the whole output
    gop: int  #: frames between IDRs
    parts: tuple[Part, ...]  #: in order, covering [0, frames) exactly
    #: smart rendering's copied GOPs (splice_plan pieces with a source), in output order:
    #: no part encodes them, the join copies them. () for a split without smart rendering
    copies: tuple[Piece, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON (a split render's rows carry it to the join)."""
        bounds = [[p.first, p.end] for p in self.parts]
        copies = [[c.start, c.frames, c.source, c.source_start, c.slot] for c in self.copies]
        return {"fps": self.fps, "frames": self.frames, "gop": self.gop, "parts": bounds,
                "copies": copies}  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Split:
        parts = tuple(
            Part(index=i, first=int(a), end=int(b)) for i, (a, b) in enumerate(d["parts"])
        )
        copies = tuple(
            Piece(start=int(a), frames=int(n), source=str(u), source_start=int(s), slot=int(k))
            for a, n, u, s, k in d.get("copies", ())
        )
        return cls(fps=int(d["fps"]), frames=int(d["frames"]), gop=int(d["gop"]), parts=parts,
                   copies=copies)  # fmt: skip

    def copied(self, first: int, end: int) -> int:
        """Copied frames in [first, end)."""
        return sum(max(0, min(end, c.end) - max(first, c.start)) for c in self.copies)

    def encoded(self, part: Part) -> int:
        """The frames `part` encodes: its file's length, its share of the work."""
        return part.frames - self.copied(part.first, part.end)

    @property
    def encoded_frames(self) -> int:
        return self.frames - self.copied(0, self.frames)

    def longest_first(self) -> tuple[int, ...]:
        """The parts' indexes, the most encoded frames first (ties in order): the order to
        queue them in, so the last of a wave is a short one (seams move onto hard cuts)."""
        return tuple(p.index for p in sorted(self.parts, key=lambda p: -self.encoded(p)))

    def holding(self, frame: int) -> Part:
        """The part that holds output frame `frame` (the last one past the end)."""
        return next((p for p in self.parts if p.first <= frame < p.end), self.parts[-1])

    def digest(self, facts: Mapping[str, str]) -> str:
        """The plan hash: the parts and what must be equal wherever a part is rendered for the
        bytes to join (`facts`: the FFmpeg and x264 versions, the font set, the encoding)."""
        bounds = [(p.first, p.end) for p in self.parts]
        copies = self.to_dict()["copies"]
        text = json.dumps([self.fps, self.gop, bounds, copies, dict(facts)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def part_file(index: int, rendition: int = 0) -> str:
    """Part `index`'s file of one rendition (output.renditions: each part makes every shape
    of its range from one decode, a file each)."""
    return PART_OUT.format(index=index) if not rendition else f"part{index}-r{rendition}.mp4"


def thumb_file(index: int, rendition: int = 0) -> str:
    """Part `index`'s thumbnail of one rendition (the part holding the thumbnail's frame
    gives the output's)."""
    return THUMB_OUT.format(index=index) if not rendition else f"thumb{index}-r{rendition}.jpg"


def grid(fps: int) -> int:
    """Frames between possible boundaries: GOP_SECONDS, a whole number of ms too."""
    step = window.grid_ms(fps) * fps // 1000  #: frames in the shortest whole-ms span
    return math.lcm(step, GOP_SECONDS * fps)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizing:
    """What a plan asks for: parts of about `chunk_ms`, at most `max_parts`, for `slots` parts
    rendered at once across the live instances (the sound is one of the items they run)."""

    chunk_ms: int
    max_parts: int
    slots: int = 1
    min_part_ms: int = MIN_PART_MS

    def count(self, duration_ms: int) -> int:
        """K: about `duration_ms / chunk_ms`, then moved to the nearest whole number of waves
        (K parts and the sound a multiple of `slots`): a last wave only partly filled would
        leave most slots idle while it runs, a wave too few would leave slots idle from the
        start. At least MIN_PART_MS each, at most `max_parts`."""
        most = max(1, min(self.max_parts, duration_ms // self.min_part_ms))
        count = max(1, min(most, round(duration_ms / self.chunk_ms)))
        if self.slots < 2:
            return count
        waves = max(1, math.floor((count + 1) / self.slots + 0.5))
        return max(1, min(waves * self.slots - 1, most))


def plan(timeline: Timeline, fps: int, sizing: Sizing, copies: Sequence[Piece] = ()) -> Split:
    """The parts of `timeline` at `fps` (one part: no split); with smart rendering's
    `copies`, K and the seams follow the frames left to encode, not the timeline's."""
    frames = frame_at(timeline.duration_ms, fps)
    step = grid(fps)
    held = Split(fps=fps, frames=frames, gop=step, parts=(), copies=tuple(copies))
    total = held.encoded_frames
    count = sizing.count(total * 1000 // fps)
    cuts = set(_hard_cuts(timeline, fps, step))
    least = frame_at(sizing.min_part_ms, fps)
    # the work (encoded frames) before each possible seam
    work = {g: g - held.copied(0, g) for g in range(step, frames, step)}
    bounds = [0]
    for k in range(1, count):
        before = 0 if bounds[-1] == 0 else work[bounds[-1]]
        # where this seam may go and leave every part at least `least` to encode
        fits = [g for g, w in work.items()
                if w - before >= least and total - w >= least * (count - k)]  # fmt: skip
        if not fits:
            continue  # one part fewer
        ideal = total * k / count
        # a cut further away would unbalance the parts by more than it saves: the last of a
        # wave waits for the longest part, and starting off a cut costs a part only the
        # decoding up to its first frame of one or two clips
        near = [g for g in fits if g in cuts and abs(work[g] - ideal) <= step]
        grid_point = round(ideal / step) * step  # ties go as round() goes: half to even
        bounds.append(min(near or fits, key=lambda g: (abs(work[g] - ideal), abs(g - grid_point))))
    bounds.append(frames)
    parts = tuple(
        Part(index=i, first=a, end=b) for i, (a, b) in enumerate(itertools.pairwise(bounds))
    )
    return replace(held, parts=parts)


def _hard_cuts(timeline: Timeline, fps: int, step: int) -> list[int]:
    """Frames on the grid where one clip ends and the next begins with no blend between."""
    found = []
    for slot in timeline.clips[1:]:
        at = frame_at(slot.start_ms, fps)
        if not spec.is_crossfade(slot.transition) and at % step == 0:
            found.append(at)
    return found


def part_output(out: spec.Output, part: Part, thumbnail: int) -> spec.Output:
    """The composition's output narrowed to one part; the part that holds the whole's
    thumbnail frame `thumbnail` shows that frame in its own (its time counts from its start)."""
    shown = out.thumbnail_ms
    if part.first <= thumbnail < part.end:
        shown = math.ceil((thumbnail - part.first) * 1000 / out.fps)  # frame_at gives it back
    return replace(out, range=part.range(out.fps), smart_render=False, thumbnail_ms=shown)


def level(size: tuple[int, int], fps: int) -> int:
    """The lowest H.264 level (ffprobe's number) that holds `size` at `fps`."""
    blocks = math.ceil(size[0] / 16) * math.ceil(size[1] / 16)
    for number, per_second, per_frame in LEVELS:
        if blocks <= per_frame and blocks * fps <= per_second:
            return number
    return LEVELS[-1][0]


def part_args(out: spec.Output, gop: int) -> list[str]:
    """A part's video options after the x264 ones: render-ready's pins (graph/render_ready.py)
    for this output's size and rate, an IDR every `gop` frames and no sound."""
    profile = replace(
        RENDER_READY,
        width=out.size[0],
        height=out.size[1],
        fps=out.fps,
        level=level(out.size, out.fps),
        timescale=out.fps * 512,
        gop_frames=gop,
    )
    return [*render_ready.video_args(profile), "-an"]


def sound_argv(graph: Graph, enc: Encoding, out: str) -> tuple[str, ...]:
    """The sound part: the whole timeline's mix alone (no picture decoded), as AAC."""
    sound = sound_only(graph)
    text = ";\n".join(render_filter(f) for f in sound.filters)
    return (
        *global_args(), *input_args(sound, enc), "-filter_complex", text,
        "-map", f"[{sound.outputs[0]}]", *audio_codec(enc), "-vn",
        "-t", f"{enc.duration_ms / 1000:.3f}", out,
    )  # fmt: skip
