"""What reading a subtitle file yields, its caps and the field its errors name.

A `RawCue` is a cue block as the format delimits it (its times and its payload lines, markup
still in); `vtt.py` and `srt.py` make them, `read.py` turns them into `spec.Cue`s. A block that
looks like a cue but is not one is a `Skipped` (its 1-based position among the file's cue
blocks, the line it starts on, why): reported in the job's metadata, never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vidsvc import spec

FIELD = "captions.url"
MAX_FILE_CUES = 5000  #: as many as inline cues (schema.MAX_CUES)
MAX_FILE_WORDS = 5000  #: as many as inline words (schema.MAX_CUES)
MAX_FILE_CUE_CHARS = 1000  #: as long as an inline cue (schema.MAX_CUE_CHARS)
#: a cue's payload with its markup: YouTube's word timings take ~4 characters per drawn one
MAX_CUE_PAYLOAD = 20 * MAX_FILE_CUE_CHARS
MAX_REPORTED_SKIPS = 20  #: the job's metadata lists the first ones and counts them all


@dataclass(frozen=True, slots=True, kw_only=True)
class RawCue:
    index: int  #: 1-based, among the file's cue blocks (skipped ones counted)
    line: int  #: 1-based line of the file where its block starts
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]  #: the payload, markup still in


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    index: int
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "line": self.line, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """A file's cues in file order, before their markup is read."""

    cues: tuple[RawCue, ...]
    skipped: tuple[Skipped, ...]  #: the first MAX_REPORTED_SKIPS
    skipped_total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Subtitles:
    """A read file: its cues (and words, when its cues time them), and how it was read."""

    format: str  #: "srt" or "vtt"
    encoding: str  #: the Python codec that decoded it, e.g. "utf-8", "gb18030", "cp1251"
    cues: tuple[spec.Cue, ...]
    words: tuple[spec.Cue, ...] = ()  #: from WebVTT inline timestamps, when asked for
    skipped: tuple[Skipped, ...] = ()  #: the first MAX_REPORTED_SKIPS
    skipped_total: int = 0

    def summary(self) -> dict[str, Any]:
        """The job's `captions` metadata: small, whatever the file."""
        out: dict[str, Any] = {"format": self.format, "encoding": self.encoding}
        out["cues"] = len(self.cues)
        if self.words:
            out["words"] = len(self.words)
        if self.skipped_total:
            out["skipped"] = [s.to_dict() for s in self.skipped]
            out["skipped_total"] = self.skipped_total
        return out
