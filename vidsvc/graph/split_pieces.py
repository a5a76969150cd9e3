"""A split render's files as the output's pieces (graph/split.py plans the parts).

Every output frame comes from one file: a part's (`part<k>.mp4`, its encoded frames back to
back) or, with smart rendering, a copied source's GOPs (`copy<i>.mp4`, its video alone:
graph/splice.py strip_command). `as_pieces` lists them in output order as smart rendering's
pieces, each naming the file and the frame in it where the piece starts, so smart
rendering's join (graph/splice.py concat_document) writes the concat list for both.

A copy is never cut at a seam: its first frame is an IDR of its source, and only that one
is. The encode spans are cut at the seams instead: each sub-span starts a part's file or
follows a copy inside it, and a part forces an IDR at each (`part_plan` is what that part
encodes, as a smart render's windows pass plans them).

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from vidsvc.graph.splice_plan import Piece, Plan
from vidsvc.graph.split import Part, Split, part_file

COPY_OUT = "copy{index}.mp4"


def part_name(part: Part) -> str:
    return f"part:{part.index}"


def copy_names(split: Split) -> dict[str, str]:
    """Each copied source's URL → the name of its video-only copy (in URL order)."""
    urls = sorted({c.source for c in split.copies if c.source})
    return {u: COPY_OUT.format(index=i) for i, u in enumerate(urls)}


def whole(split: Split) -> Plan:
    """The output as smart rendering plans it: the copies, and the encode spans between."""
    pieces: list[Piece] = []
    at = 0
    for copy in split.copies:
        if copy.start > at:
            pieces.append(Piece(start=at, frames=copy.start - at))
        pieces.append(copy)
        at = copy.end
    if at < split.frames:
        pieces.append(Piece(start=at, frames=split.frames - at))
    return Plan(fps=split.fps, total_frames=split.frames, pieces=tuple(pieces))


def part_plan(split: Split, part: Part) -> Plan:
    """What `part` encodes, as a plan of its range (its frame 0 is the part's first): the
    encode spans inside it are its windows, the copies are left to the join."""
    pieces: list[Piece] = []
    for p in whole(split).pieces:
        first, end = max(p.start, part.first), min(p.end, part.end)
        if first < end:
            shifted = Piece(start=first - part.first, frames=end - first, source=p.source)
            pieces.append(shifted)
    return Plan(fps=split.fps, total_frames=part.frames, pieces=tuple(pieces))


def as_pieces(split: Split, rendition: int = 0) -> tuple[Plan, dict[str, str]]:
    """One rendition's pieces in order, each from a part's file or a copied source's, and
    each piece's source → its file name in the join's workspace."""
    pieces: list[Piece] = []
    for p in whole(split).pieces:
        if p.source is not None:
            pieces.append(p)
            continue
        for part in split.parts:  # an encode span, cut at the seams inside it
            first, end = max(p.start, part.first), min(p.end, part.end)
            if first < end:
                offset = first - part.first - split.copied(part.first, first)
                pieces.append(Piece(start=first, frames=end - first, source=part_name(part),
                                    source_start=offset))  # fmt: skip
    names = {part_name(p): part_file(p.index, rendition) for p in split.parts}
    plan = Plan(fps=split.fps, total_frames=split.frames, pieces=tuple(pieces))
    return plan, names | copy_names(split)
