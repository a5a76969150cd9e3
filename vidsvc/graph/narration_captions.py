"""Captions from narration (docs/composition.md#captions-from-narration): each narration's
words on the output timeline, for graph/captions.py to draw in the captions' mode.

- `voiceover_words` are shifted by the narration's start and clipped to its span (from its
  start to the end of its audible part); they win over `voiceover_text`, the script they time.
- `voiceover_text` is cut into ICU line-break units (graph/unibreak.py: words, and single
  ideographs, kana or Thai dictionary words), each paced over the audible span by its length
  in grapheme clusters: contiguous, the first starting at the span's start, the last ending at
  its end. A unit that ends without a space is kept with the next one unless both sides are of
  a script written without spaces, so "co-operate" or a URL stays whole when the words are
  joined again by spaces.
- Each narration is one stream of words, and each paragraph of a text (split at its `\\n`) one
  more, so a reading group never runs from one narration, or paragraph, into the next.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Iterable

from vidsvc import spec
from vidsvc.graph import layout
from vidsvc.graph.captions import clean
from vidsvc.graph.narration import Spoken
from vidsvc.graph.unibreak import cluster_ends, line_units

#: One narration's (or paragraph's) words, in order, on the output timeline.
Stream = tuple[spec.Cue, ...]


def streams(spoken: Iterable[Spoken]) -> tuple[Stream, ...]:
    """The caption words of every narration, one stream per narration or paragraph; a
    narration with nothing to show gives none."""
    out: list[Stream] = []
    for s in spoken:
        if s.words:
            out.append(shifted(s))
        elif s.text:
            out.extend(paced(s.text, s.start_ms, s.end_ms))
    return tuple(stream for stream in out if stream)


def shifted(s: Spoken) -> Stream:
    """`s.words` on the output timeline, clipped to the narration's span (empty ones dropped)."""
    out = []
    for w in s.words:
        start = max(s.start_ms, s.start_ms + w.start_ms)
        end = min(s.end_ms, s.start_ms + w.end_ms)
        if end > start and w.text.strip():
            out.append(spec.Cue(start_ms=start, end_ms=end, text=w.text))
    return tuple(sorted(out, key=lambda c: (c.start_ms, c.end_ms)))


def paced(text: str, start_ms: int, end_ms: int) -> tuple[Stream, ...]:
    """The text's words over [start_ms, end_ms], each for a time proportional to its length,
    one stream per paragraph; a unit whose share rounds to no time is dropped."""
    lines = (units(line) for line in clean(text).split("\n"))
    paragraphs = [[(unit, length(unit)) for unit in line] for line in lines if line]
    total, span = sum(n for p in paragraphs for _, n in p), end_ms - start_ms
    if not total or span <= 0:
        return ()
    out: list[Stream] = []
    done = 0  #: the length of the units already placed
    for paragraph in paragraphs:
        words = []
        for unit, n in paragraph:
            begin, done = start_ms + _share(span, done, total), done + n
            end = start_ms + _share(span, done, total)
            if end > begin:
                words.append(spec.Cue(start_ms=begin, end_ms=end, text=unit))
        out.append(tuple(words))
    return tuple(out)


def units(line: str) -> list[str]:
    """One line of text as caption words: its line-break units, trimmed, a unit merged into
    the one before where joining them by a space would change the text (the module docstring)."""
    out: list[str] = []
    before = ""  #: the previous unit as cut, its trailing spaces kept
    for unit in line_units(line):
        body = unit.strip()
        if body and out and _glued(before, body):
            out[-1] += body
        elif body:
            out.append(body)
        before = unit
    return out


def _glued(before: str, body: str) -> bool:
    """No space between the two units, and captions would draw one (one side is of a script
    written with spaces)."""
    if not before or before[-1].isspace():
        return False
    return not (layout.needs_own_breaks(before[-1]) and layout.needs_own_breaks(body[0]))


def length(word: str) -> int:
    """A word's length as pacing counts it: its grapheme clusters."""
    return len(cluster_ends(word))


def _share(span: int, part: int, total: int) -> int:
    """span × part / total, rounded half up, in integers (so the last bound is exactly span)."""
    return (2 * span * part + total) // (2 * total)
