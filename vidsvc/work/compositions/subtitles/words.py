"""Words timed by a WebVTT file's inline timestamps (karaoke and YouTube's automatic captions),
for `captions.mode` `highlight` and `word`: the graph then groups and highlights them exactly as
it does inline `words` (graph/captions.py), nothing new in the graph.

A span (the text from one timestamp to the next; the first from the cue's start, the last to
its end) gives its words, splitting the span's time evenly when it holds more than one. A
timestamp outside its cue's time is clamped into it, and times never go back. YouTube's rolling
captions repeat the previous cue's line above the new one: an untimed line that repeats a line
of the previous cue gives no words, so every spoken word is there once (a timed line sung again
keeps its words); and a word timed at its cue's
very end (YouTube's last word of a line) lasts until the next word starts.
"""

from __future__ import annotations

import re

from vidsvc import spec
from vidsvc.work.compositions.subtitles.markup import Span, drawn, vtt_spans, vtt_text
from vidsvc.work.compositions.subtitles.model import MAX_FILE_WORDS, RawCue

_TIMESTAMP_TAG = re.compile(r"<\s*\d")
LAST_WORD_MS = 500  #: a zero-length last word is shown this long


def timed(cue: RawCue) -> bool:
    """Whether the cue holds an inline timestamp (a tag starting with a digit)."""
    return any(_TIMESTAMP_TAG.search(line) for line in cue.lines)


def words(cues: tuple[RawCue, ...]) -> list[spec.Cue]:
    """Every cue's words, in file order."""
    found: list[tuple[int, int, str]] = []
    before: set[str] = set()
    for cue in cues:
        payload = [line for line in cue.lines if not _repeat(line, before)]
        before = {_plain(line) for line in cue.lines}
        found.extend(_cue_words(cue, vtt_spans("\n".join(payload))))
        if len(found) > MAX_FILE_WORDS:  # refused by the caller: no need to read further
            break
    out = []
    for k, (start, end, text) in enumerate(found):
        if end <= start:  # timed at its cue's very end (YouTube): until the next word starts
            after = found[k + 1][0] if k + 1 < len(found) else start
            end = after if after > start else start + LAST_WORD_MS
        out.append(spec.Cue(start_ms=start, end_ms=end, text=text))
    return out


def _plain(line: str) -> str:
    return drawn(vtt_text(line))


def _repeat(line: str, before: set[str]) -> bool:
    """An untimed line the previous cue showed (YouTube's rolling display). A timed one is
    sung again: a chorus keeps its words."""
    return not _TIMESTAMP_TAG.search(line) and bool(_plain(line)) and _plain(line) in before


def _cue_words(cue: RawCue, spans: list[Span]) -> list[tuple[int, int, str]]:
    """(start, end, word) of the cue's spans; an end may not be after its start yet."""
    if not spans:
        return []
    out = []
    starts: list[int] = []
    prev = cue.start_ms
    for at, _ in spans:
        prev = min(max(prev if at is None else at, prev), cue.end_ms)
        starts.append(prev)
    ends = [*starts[1:], cue.end_ms]
    for (_, text), start, end in zip(spans, starts, ends, strict=True):
        tokens = text.split()
        step = (end - start) / max(1, len(tokens))
        for k, token in enumerate(tokens):
            out.append((start + round(k * step), start + round((k + 1) * step), token))
    return out
