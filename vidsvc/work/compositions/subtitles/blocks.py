"""A subtitle file's lines grouped into blocks, and blocks into cues: shared by WebVTT and SRT.

Lines end at CR, LF or CRLF only (not at U+2028 or a form feed, as str.splitlines would). A
block is a run of lines between empty lines; a block holding a second timing line is two cues
(WebVTT's parser does this, and players read SRT files missing a blank line the same way):
the new cue starts at that line, with the line before it when that line is an SRT number.

Linear, and bounded whatever the file: blocks are cut and timing lines found by regular-
expression scans, and lines split by str.split, with no Python loop over lines; reading stops
(a refusal) at the first cue over MAX_FILE_CUES or the first block over MAX_OTHER_BLOCKS that
is not a cue (comments, styles, malformed cues, lines of spaces), so a 5 MB file of tiny blocks
costs no more than a real one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions.subtitles.model import (
    FIELD,
    MAX_CUE_PAYLOAD,
    MAX_FILE_CUES,
    MAX_REPORTED_SKIPS,
    Parsed,
    RawCue,
    Skipped,
)
from vidsvc.work.compositions.subtitles.timing import timing

MAX_OTHER_BLOCKS = 2 * MAX_FILE_CUES  #: blocks that are not cues, in a file still read
_EMPTY_LINES = re.compile(r"\n{2,}")  # WebVTT: only an empty line separates
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")  # SRT: a line of spaces is blank too
_ARROW_LINE = re.compile(r"^[^\n]*?-->", re.MULTILINE)  # one match per line holding -->

Text = tuple[int, str]  #: a block as found: (1-based line of its first line, its text)
Block = tuple[int, list[str]]  #: a block as cut into cues: (first line, its lines)


def newlines(text: str) -> str:
    """The text with every line ending as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def blocks(text: str, *, spaces_are_blank: bool) -> Iterator[Text]:
    """Runs of non-empty lines of LF-ended text (WebVTT: a line of spaces is not empty; SRT:
    it is)."""
    separator = _BLANK_LINES if spaces_are_blank else _EMPTY_LINES
    pos, line = 0, 1
    for m in separator.finditer(text):
        if m.start() > pos:
            yield line, text[pos : m.start()]
        line += text.count("\n", pos, m.end())
        pos = m.end()
    if pos < len(text):
        yield line, text[pos:]


def arrow_lines(text: str) -> Iterator[int]:
    """0-based indexes of the lines holding `-->`, found lazily (a block of 175 000 timing
    lines is refused at the cue cap, not read whole)."""
    line, pos = 0, 0
    for m in _ARROW_LINE.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        yield line


def split_at_timings(block: Text, *, numbered: bool) -> Iterator[Block]:
    """The block as cues: cut before every timing line after its own (and before the SRT
    number heading such a line, when `numbered`). A block whose first timing line comes later
    than its second line starts with stray lines (Netflix's lines of spaces): they are a block
    of their own, and the line just before the timing line is the cue's identifier."""
    first, text = block
    block_lines = text.split("\n")
    arrows = arrow_lines(text)
    own = next(arrows, None)
    if own is None:
        yield first, block_lines
        return
    start = 0
    if own > 1:
        yield first, block_lines[: own - 1]
        start = own - 1
    for i in arrows:
        number = numbered and i - 1 > own and block_lines[i - 1].strip().isdigit()
        cut = i - 1 if number else i
        yield first + start, block_lines[start:cut]
        start, own = cut, i
    yield first + start, block_lines[start:]


class Cues:
    """Collects a file's cues and skipped blocks, numbering both in file order; refuses the
    file past its caps. Only the first MAX_REPORTED_SKIPS skipped blocks are kept."""

    def __init__(self) -> None:
        self.cues: list[RawCue] = []
        self.total = 0
        self.skipped: list[Skipped] = []
        self.skipped_total = 0
        self._index = 0
        self._others = 0

    def parsed(self) -> Parsed:
        return Parsed(
            cues=tuple(self.cues),
            skipped=tuple(self.skipped),
            skipped_total=self.skipped_total,
        )

    def add(self, block: Block) -> None:
        """A cue block: an optional identifier (or SRT number), its timing line, its payload."""
        first, block_lines = block
        if not "".join(block_lines).strip():
            self.other()  # only spaces: nothing a player would draw, nothing to report
            return
        self._index += 1
        at = 0 if "-->" in block_lines[0] else 1
        if at >= len(block_lines) or "-->" not in block_lines[at]:
            self.skip(first, "no timing line: not a cue")
            return
        times = timing(block_lines[at])
        if isinstance(times, str):
            self.skip(first, times)
            return
        payload = block_lines[at + 1 :]
        size = sum(map(len, payload)) + len(payload)
        if size > MAX_CUE_PAYLOAD:  # every later step is then bounded per cue
            raise InvalidClipFormat.at(
                FIELD,
                f"a cue of {size} characters with its markup, over the cap of {MAX_CUE_PAYLOAD}",
            )
        self.total += 1
        if self.total > MAX_FILE_CUES:
            raise InvalidClipFormat.at(
                FIELD, f"at least {self.total} cues, over the cap of {MAX_FILE_CUES}"
            )
        self.cues.append(
            RawCue(
                index=self._index,
                line=first,
                start_ms=times[0],
                end_ms=times[1],
                lines=tuple(payload),
            )
        )

    def other(self) -> None:
        """A block that is no cue (a comment, a style, a malformed cue, spaces)."""
        self._others += 1
        if self._others > MAX_OTHER_BLOCKS:
            raise InvalidClipFormat.at(
                FIELD,
                f"more than {MAX_OTHER_BLOCKS} blocks that are not cues: not a subtitle file",
            )

    def skip(self, line: int, reason: str) -> None:
        self.other()
        self.skipped_total += 1
        if len(self.skipped) < MAX_REPORTED_SKIPS:
            self.skipped.append(Skipped(index=self._index, line=line, reason=reason))
