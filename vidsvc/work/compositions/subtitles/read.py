"""A subtitle file's bytes → `Subtitles`: decoded, its format told, parsed, its markup read,
checked against the caps.

The format: a file starting with the `WEBVTT` signature is WebVTT; any other file with a timing
line (`-->`) is read as SRT (which also accepts WebVTT's `.` and unpadded times, so a WebVTT
file missing its signature still reads); anything else is not a subtitle file. A file with no
valid cue with text is refused naming `captions.url`, as is one over a cap (MAX_FILE_CUES
cues, a cue of more than MAX_FILE_CUE_CHARS characters, MAX_FILE_WORDS timed words).
"""

from __future__ import annotations

from vidsvc import spec
from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions.subtitles import decode, srt, vtt
from vidsvc.work.compositions.subtitles import words as timed_words
from vidsvc.work.compositions.subtitles.markup import drawn, srt_text, vtt_text
from vidsvc.work.compositions.subtitles.model import (
    FIELD,
    MAX_FILE_CUE_CHARS,
    MAX_FILE_WORDS,
    Parsed,
    RawCue,
    Subtitles,
)


def read(data: bytes, *, words: bool = False) -> Subtitles:
    """The file's cues in file order (the graph sorts and clips them); with `words`, and cues
    holding inline timestamps, their timed words too."""
    if not data.strip():
        raise InvalidClipFormat.at(FIELD, "the file is empty")
    text, encoding = decode.decode(data)
    if vtt.is_vtt(text):
        fmt, parsed = "vtt", vtt.parse(text)
    elif srt.has_timing(text):
        fmt, parsed = "srt", srt.parse(text)
    elif text.lstrip().startswith("[Script Info]"):
        raise InvalidClipFormat.at(FIELD, "an ASS/SSA file; only SRT and WebVTT are read")
    else:
        raise InvalidClipFormat.at(FIELD, "not an SRT or WebVTT file (no timing line)")
    cues = _cues(parsed, fmt)
    found: tuple[spec.Cue, ...] = ()
    if words and fmt == "vtt" and any(timed_words.timed(c) for c in parsed.cues):
        found = tuple(timed_words.words(parsed.cues))
        if len(found) > MAX_FILE_WORDS:
            raise InvalidClipFormat.at(
                FIELD, f"{len(found)} timed words, over the cap of {MAX_FILE_WORDS}"
            )
    return Subtitles(
        format=fmt,
        encoding=encoding,
        cues=cues,
        words=found,
        skipped=parsed.skipped,
        skipped_total=parsed.skipped_total,
    )


def _cues(parsed: Parsed, fmt: str) -> tuple[spec.Cue, ...]:
    cues = tuple(
        spec.Cue(start_ms=c.start_ms, end_ms=c.end_ms, text=text)
        for c in parsed.cues
        if (text := _text(c, fmt))
    )
    if not cues:
        why = f" ({parsed.skipped_total} malformed, skipped)" if parsed.skipped_total else ""
        raise InvalidClipFormat.at(FIELD, f"no cue with text and a positive duration{why}")
    longest = max(len(c.text) for c in cues)
    if longest > MAX_FILE_CUE_CHARS:
        raise InvalidClipFormat.at(
            FIELD, f"a cue of {longest} characters, over the cap of {MAX_FILE_CUE_CHARS}"
        )
    return cues


def _text(cue: RawCue, fmt: str) -> str:
    payload = "\n".join(cue.lines)
    if fmt == "srt":
        return drawn(srt_text(payload))
    return drawn(vtt_text(payload))
