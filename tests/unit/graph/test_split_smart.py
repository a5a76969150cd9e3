"""A split with smart rendering's copies (graph/split.py, graph/split_pieces.py): the parts are
balanced by the frames left to encode, each part's plan holds only its encode spans, and the
output's pieces name, for every frame, the file it is copied from and where in that file.

That the pieces join into the frames of one pass is tests/render/test_smart_render.py.
"""

from __future__ import annotations

import dataclasses
import itertools

from tests.unit.graph.test_split_plan import _timeline
from vidsvc.graph import split as parts
from vidsvc.graph import split_pieces
from vidsvc.graph.splice_plan import Piece

FPS = 30
# 120 s of 10 s clips; clip 0..5 copied whole but for 1 s at each end: 48 s copied in 6 runs
COPIES = tuple(
    Piece(start=i * 300 + 30, frames=240, source=f"file:///c{i % 2}.mp4", source_start=0, slot=i)
    for i in range(6)
)
ASKS = parts.Sizing(chunk_ms=20_000, max_parts=8)


def test_the_seams_balance_the_frames_left_to_encode() -> None:
    timeline = _timeline([10.0] * 12)
    split = parts.plan(timeline, FPS, ASKS, COPIES)
    assert split.encoded_frames == 3600 - 6 * 240
    # K from the 72 s to encode, not the 120 s: 3 parts (each at least 20 s), not 6
    assert len(split.parts) == 3
    work = [split.encoded(p) for p in split.parts]
    assert sum(work) == split.encoded_frames
    # each seam within a GOP of its ideal (a hard cut near it taken): [660, 780, 720]
    assert max(work) - min(work) <= 2 * split.gop, work
    # the copied first half of the timeline holds fewer encoded frames a second: longer parts
    assert split.parts[0].frames > split.parts[-1].frames
    plain = parts.plan(timeline, FPS, ASKS)
    assert len(plain.parts) == 6 and plain.copies == ()


def test_copies_go_with_the_plan_and_its_hash() -> None:
    split = parts.plan(_timeline([10.0] * 12), FPS, ASKS, COPIES)
    again = parts.Split.from_dict(split.to_dict())
    assert again == split and again.copies == COPIES
    facts = {"ffmpeg": "5.1"}
    other = dataclasses.replace(split, copies=COPIES[:-1])
    assert split.digest(facts) != other.digest(facts)
    # a plan written before copies existed reads as one without
    old = {k: v for k, v in split.to_dict().items() if k != "copies"}
    assert parts.Split.from_dict(old).copies == ()


def test_a_part_plans_only_its_own_encode_spans() -> None:
    split = parts.Split(fps=FPS, frames=600, gop=60, copies=COPIES[:1],  # copy [30, 270)
                        parts=(parts.Part(index=0, first=0, end=240),
                               parts.Part(index=1, first=240, end=600)))  # fmt: skip
    first, second = (split_pieces.part_plan(split, p) for p in split.parts)
    assert [(w.start, w.frames) for w in first.windows] == [(0, 30)]
    assert first.total_frames == 240 and first.encoded_frames == 30
    assert [(w.start, w.frames) for w in second.windows] == [(30, 330)]  # from 270
    assert second.encoded_frames == split.encoded(split.parts[1]) == 330


def test_the_pieces_name_each_frames_file_and_place() -> None:
    split = parts.plan(_timeline([10.0] * 12), FPS, ASKS, COPIES)
    plan, names = split_pieces.as_pieces(split)
    # every frame exactly once, in order
    assert plan.pieces[0].start == 0 and plan.pieces[-1].end == split.frames
    assert all(a.end == b.start for a, b in itertools.pairwise(plan.pieces))
    copies = [p for p in plan.pieces if not (p.source or "").startswith("part:")]
    assert tuple(copies) == COPIES  # never cut at a seam: each starts on its source's IDR
    assert {names[c.source or ""] for c in copies} == {"copy0.mp4", "copy1.mp4"}
    # a part's pieces follow each other in its file, from its frame 0
    for part in split.parts:
        own = [p for p in plan.pieces if p.source == f"part:{part.index}"]
        assert own[0].source_start == 0 and names[f"part:{part.index}"] == f"part{part.index}.mp4"
        at = [p.source_start for p in own]
        assert at == list(itertools.accumulate([0, *(p.frames for p in own[:-1])]))
        assert sum(p.frames for p in own) == split.encoded(part)
