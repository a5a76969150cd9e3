"""Subtitle files (SRT and WebVTT) read as the formats define them: `read(bytes) -> Subtitles`.

    decode.py (the encoding) → vtt.py | srt.py (blocks.py: lines, blocks and cue blocks;
    timing.py: timestamps) → markup.py (tags, entities, inline timestamps) → words.py (inline
    timestamps as word timings) → read.py (the format, the caps, the cues) ; model.py (values)

Why a parser of our own. The kept parsers were run on real files (webvtt-py 0.6.0's and srt
3.5.3's test data, vendored under tests/support/subtitles/, and crafted files for the exporters'
quirks the issue lists; tests/support/subtitles/compare_parsers.py). Of 19 UTF-8 files:

- pysubs2 1.8.1 (the previous parser) read 5 as a player does: it draws cue identifiers and
  `NOTE` text as captions, draws `<00:17.500>`, `<v Jane Doe>` and `&lt;` as typed, drops
  `0:0:3.540` cues, and draws a malformed cue's number and timing line as the previous cue's text.
- webvtt-py 0.6.0 read 12: its text keeps `&lt;` and `&amp;` as typed and draws ruby
  annotations; its SRT reader refuses unnumbered cues and UTF-16, keeps `{\an8}`, and draws a
  cue that ends before it starts.
- srt 3.5.3 read 0 of the 5 SRT files (no markup handling at all; SRT only).

None detects a legacy encoding, and none gives inline timestamps as word timings. The formats
are small: what players do fits in a few linear modules, each a single pass over blocks or one
regular-expression scan, with early refusals at the caps. Measured by
tests/support/subtitles/measure_parse.py: 0.15-0.30 s of CPU for 5 MB files of 5000 cues with
tags, entities, word timings or a legacy encoding; 0.03-0.25 s for degenerate 5 MB files (1.7 M
stray blocks, one cue of 1.7 M lines, 175 000 timing lines), all refused early.

A leaf: imports vidsvc.spec, vidsvc.errors and charset-normalizer only (an import-linter
contract); the staging glue is work/compositions/captionfile.py.
"""

from __future__ import annotations

from vidsvc.work.compositions.subtitles.model import (
    FIELD,
    MAX_FILE_CUE_CHARS,
    MAX_FILE_CUES,
    MAX_FILE_WORDS,
    Skipped,
    Subtitles,
)
from vidsvc.work.compositions.subtitles.read import read

__all__ = [
    "FIELD",
    "MAX_FILE_CUES",
    "MAX_FILE_CUE_CHARS",
    "MAX_FILE_WORDS",
    "Skipped",
    "Subtitles",
    "read",
]
