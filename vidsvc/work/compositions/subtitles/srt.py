"""SRT files as players read them (SubRip has no spec; VLC, mpv and FFmpeg agree on this).

A cue is an optional number line, the timing line `hh:mm:ss,ttt --> hh:mm:ss,ttt` (`.` for
`,`, unpadded fields and trailing coordinates are accepted), then its text up to a blank line
(a line of spaces is blank). A block with no timing line, or a timing line that does not parse
(`00:00:07,000 --> 00:00:11:890`), is skipped with its reason: its number and timing line are
never drawn as the previous cue's text. A missing blank line before a numbered cue still
separates the two.

The text's markup is read by markup.py.
"""

from __future__ import annotations

from vidsvc.work.compositions.subtitles.blocks import Cues, blocks, newlines, split_at_timings
from vidsvc.work.compositions.subtitles.model import Parsed


def has_timing(text: str) -> bool:
    return "-->" in text


def parse(text: str) -> Parsed:
    """The cues of an SRT file."""
    cues = Cues()
    for block in blocks(newlines(text.lstrip("\ufeff")), spaces_are_blank=True):
        for piece in split_at_timings(block, numbered=True):
            cues.add(piece)
    return cues.parsed()
