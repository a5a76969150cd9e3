"""WebVTT files as the W3C spec parses them (https://www.w3.org/TR/webvtt1/#file-parsing).

- The header: `WEBVTT`, then optionally a space or tab and any text, then metadata lines
  (`Kind: captions`, `Language: en`, YouTube's `Style:` lines) up to the first empty line; a
  timing line inside it starts the first cue (the spec's parser allows it).
- Blocks after it: `NOTE` comments, `STYLE` sheets and `REGION` definitions are read and not
  drawn (a timing line inside one ends it and starts a cue, as the spec's parser reads it); a
  cue is an optional identifier line, the timing line `start --> end` with optional cue
  settings (`position:`, `line:`, `align:`, `size:`, `region:`, `vertical:`; read and not
  applied: `captions.position` places every cue), then its payload up to an empty line. A line
  of spaces is not empty (YouTube's cues start with one). A block with no timing line is a
  skipped cue unless it is only spaces (Netflix exports carry such lines between blocks).

The payload's markup is read by markup.py.
"""

from __future__ import annotations

import re

from vidsvc.work.compositions.subtitles.blocks import (
    Cues,
    arrow_lines,
    blocks,
    newlines,
    split_at_timings,
)
from vidsvc.work.compositions.subtitles.model import Parsed

_SIGNATURE = re.compile(r"\ufeff?WEBVTT(?:[ \t\r\n]|$)")
_IGNORED = re.compile(r"(?:NOTE(?:[ \t].*)?|STYLE[ \t]*|REGION[ \t]*)")


def is_vtt(text: str) -> bool:
    return _SIGNATURE.match(text[:16]) is not None


def parse(text: str) -> Parsed:
    """The cues of a WebVTT file (its signature checked by the caller)."""
    cues = Cues()
    for n, (first, block) in enumerate(blocks(newlines(text), spaces_are_blank=False)):
        if n == 0:  # the header: its cues start at a timing line, if it holds one
            arrow = next(arrow_lines(block), None)
            if arrow is None:
                continue
            first, block = first + arrow, block.split("\n", arrow)[arrow]
        for piece in split_at_timings((first, block), numbered=False):
            if _IGNORED.fullmatch(piece[1][0]) and not any("-->" in x for x in piece[1]):
                cues.other()  # a comment, a style sheet or a region: never drawn
            else:
                cues.add(piece)  # a cue, or a stray block reported as skipped
    return cues.parsed()
