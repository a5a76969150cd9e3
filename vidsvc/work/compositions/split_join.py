"""The join of a split render's files (work/compositions/split.py renders them): each
rendition's parts by packet index, with smart rendering's copied GOPs stripped from their
sources, muxed with the sound; then checked (the frame count of one pass, strictly increasing
timestamps, one set of parameter sets). BadParts names the parts that do not join, so the
caller can render them again.

Imports vidsvc.graph and vidsvc.media.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from vidsvc import graph
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.graph import splice, split_pieces
from vidsvc.graph import split as parts
from vidsvc.graph.compile import output_name
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.spliceable import VideoPackets, read_packets

SOUND_ONLY = -1  #: the sound part's place among BadParts' indices (and prepare_split's `only`)


class BadParts(ProcessingFailed):
    """Parts that cannot be joined as they are: missing, unreadable, short of frames, or with
    other parameter sets than the rest. `parts`: their indices (SOUND_ONLY: the sound)."""

    def __init__(self, message: str, bad: Iterable[int]) -> None:
        super().__init__(message)
        self.parts = tuple(sorted(set(bad)))


async def _readable(
    split: parts.Split, settings: Settings, work: Path, rendition: int
) -> list[VideoPackets]:
    """Each part's packets; BadParts for those that are unreadable or not what the plan says
    (as many frames as the part encodes)."""
    names = [parts.part_file(p.index, rendition) for p in split.parts]
    read = await asyncio.gather(
        *(read_packets(work / n, settings) for n in names), return_exceptions=True
    )
    bad = [p.index for p, got in zip(split.parts, read, strict=True)
           if isinstance(got, BaseException) or len(got.dts) != split.encoded(p)]  # fmt: skip
    if bad:
        raise BadParts(f"parts {bad} are missing, unreadable or short of frames", bad)
    ok = [got for got in read if isinstance(got, VideoPackets)]
    usual = Counter(p.extradata_sha256 for p in ok).most_common(1)[0][0]
    if odd := [i for i, p in enumerate(ok) if p.extradata_sha256 != usual]:
        raise BadParts(f"parts {odd} have other parameter sets: they cannot be joined", odd)
    return ok


async def _copied(
    split: parts.Split, copies: Mapping[str, Path], settings: Settings, work: Path
) -> tuple[list[FFmpegRun], dict[str, VideoPackets]]:
    """Each copied source's video alone in `work` (graph/splice.py strip_command), read."""
    names = split_pieces.copy_names(split)
    if not names:
        return [], {}
    pairs = [(str(copies[u]), name) for u, name in names.items()]
    run = await run_ffmpeg(splice.strip_command(pairs), settings=settings, cwd=work)
    read = await asyncio.gather(*(read_packets(work / n, settings) for n in names.values()))
    return [run], dict(zip(names.values(), read, strict=True))


async def join(
    split: parts.Split,
    enc: graph.Encoding,
    settings: Settings,
    work: Path,
    copies: Mapping[str, Path] | None = None,
    renditions: int = 1,
) -> list[FFmpegRun]:
    """The parts and the sound in `work`, and the copied GOPs of the sources in `copies`
    (URL → staged file; smart rendering), joined without re-encoding into each rendition's
    output (`enc.video_out`, numbered), checked: BadParts names the parts that do not join,
    ProcessingFailed what else went wrong."""
    if not (work / splice.AUDIO_OUT).is_file():
        raise BadParts("the sound part is missing", (SOUND_ONLY,))
    runs, copied = await _copied(split, copies or {}, settings, work)
    for n in range(renditions):
        runs.append(await _rendition(split, enc, settings, work, copied, n))
    return runs


async def _rendition(
    split: parts.Split,
    enc: graph.Encoding,
    settings: Settings,
    work: Path,
    copied: Mapping[str, VideoPackets],
    rendition: int,
) -> FFmpegRun:
    """One rendition's parts and the copies joined into its output, and checked."""
    pieces, names = split_pieces.as_pieces(split, rendition)
    enc = dataclasses.replace(enc, video_out=output_name(enc.video_out, rendition))
    read = await _readable(split, settings, work, rendition)
    if any(p.extradata_sha256 != read[0].extradata_sha256 for p in copied.values()):
        raise ProcessingFailed("the copied sources' parameter sets differ from the parts'")
    files = {parts.part_file(p.index, rendition): got for p, got in zip(split.parts, read,
             strict=True)} | dict(copied)  # fmt: skip
    packets = {
        name: splice.Packets(pts=p.pts, dts=p.dts, time_base=p.time_base)
        for name, p in files.items()
    }
    (work / splice.CONCAT_LIST).write_text(
        splice.concat_document(pieces, names, packets), encoding="utf-8"
    )
    run = await run_ffmpeg(splice.join_command(enc), settings=settings, cwd=work)
    joined = await read_packets(work / enc.video_out, settings)
    if len(joined.dts) != split.frames:
        raise ProcessingFailed(f"the join has {len(joined.dts)} of {split.frames} frames")
    if any(b <= a for a, b in zip(joined.dts, joined.dts[1:], strict=False)):
        raise ProcessingFailed("the join's timestamps are not strictly increasing")
    return run
