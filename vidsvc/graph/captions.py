"""Captions as events of the render's one ASS document (docs/contract.md §3.1 `captions`).

- Times: `offset` is added (not to narrations' words: they are placed on the output timeline
  already), then every cue is clipped to the timeline; cues left empty are dropped, the rest
  sorted by start. Overlapping cues are stacked by libass (captions are placed by alignment
  and margins, not pinned, so libass' collision handling applies).
- Sources combine: `cues`, `words` and each narration's words (graph/narration_captions.py)
  are all drawn, in the captions' style, mode and position, as events sorted by start.
- `cues` (or a parsed file), in every mode: one event per cue, wrapped like overlays.
- `words` (each source's stream on its own): grouped into short lines (at most about two
  lines of the wrap width, a new group after a pause of PAUSE_MS or a sentence end); mode
  `lines` shows each group for its time, `highlight` shows the group with the spoken word in
  `style.highlight_color` (one event per word: karaoke tags only recolour, and this way every
  word change is exact to the frame rounding), `word` shows one word at a time.
- Position: `bottom` sits above a bottom margin of 8 % of the height (landscape) or 22 % (a
  portrait frame, above the buttons short-video apps draw over the bottom 15-35 %); `top` below
  the safe margin (12 % in portrait); `center` in the middle.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from vidsvc import spec
from vidsvc.graph import ass, layout
from vidsvc.graph.model import FontFace

PAUSE_MS = 700
#: A group of words may be this many wrap widths long (estimated): two lines, with room for
#: the estimate's error.
GROUP_WIDTHS = 1.6
MAX_GROUP_WORDS = 8
_SENTENCE_END = (".", "!", "?", "。", "！", "？", "…")


def margins(position: str, size: tuple[int, int]) -> tuple[int, int]:
    """(alignment, vertical margin) for a caption position."""
    w, h = size
    portrait = h > w
    m = layout.safe_margin(size)
    if position == "top":
        return 8, round(h * 0.12) if portrait else m
    if position == "center":
        return 5, 0
    return 2, round(h * 0.22) if portrait else max(m, round(h * 0.08))


#: Unicode's Cc (C0, DEL, C1), Zl and Zp characters but `\n`: drawn as spaces.
_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: str) -> str:
    """Caption text as drawable text: line breaks kept, other control characters as spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub(" ", text).strip()


def timed(cues: Sequence[spec.Cue], offset_ms: int, total_ms: int) -> list[spec.Cue]:
    """Offset, clipped to [0, total], empty ones dropped, sorted by start."""
    out = []
    for cue in cues:
        start = max(0, cue.start_ms + offset_ms)
        end = min(total_ms, cue.end_ms + offset_ms)
        text = clean(cue.text)
        if end > start and text:
            out.append(spec.Cue(start_ms=start, end_ms=end, text=text))
    return sorted(out, key=lambda c: (c.start_ms, c.end_ms))


def group(words: list[spec.Cue], width: int, em: float) -> list[list[spec.Cue]]:
    """Words in reading groups: short lines that change at pauses and sentence ends."""
    groups: list[list[spec.Cue]] = []
    current: list[spec.Cue] = []
    for word in words:
        if current:
            text = _join([w.text for w in [*current, word]])
            too_long = sum(layout.char_em(ch) for ch in text) * em > GROUP_WIDTHS * width
            pause = word.start_ms - current[-1].end_ms > PAUSE_MS
            ended = current[-1].text.endswith(_SENTENCE_END)
            if too_long or pause or ended or len(current) >= MAX_GROUP_WORDS:
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups


def _join(words: list[str]) -> str:
    """Words joined by spaces, except between two words of a script written without them."""
    out = ""
    for word in words:
        if out and not (layout.needs_own_breaks(out[-1]) and layout.needs_own_breaks(word[0])):
            out += " "
        out += word
    return out


def _lines(words: list[str], width: int, em: float) -> list[list[int]]:
    """Indexes of the words on each line (greedy on the estimated width)."""
    lines: list[list[int]] = [[]]
    for i, word in enumerate(words):
        text = _join([words[j] for j in lines[-1]] + [word])
        if lines[-1] and sum(layout.char_em(ch) for ch in text) * em > width:
            lines.append([])
        lines[-1].append(i)
    return lines


def _render_group(
    words: list[str], lines: list[list[int]], spoken: int | None, highlight: str
) -> str:
    """The group's ASS text, the spoken word (if any) in the highlight colour."""
    out = []
    for line in lines:
        parts = []
        for i in line:
            text = ass.escape_text(words[i])
            if i == spoken:
                text = "{\\1c" + highlight + "}" + text + "{\\1c}"  # \1c alone: the style's
            parts.append(text)
        out.append(_join_escaped(parts, [words[i] for i in line]))
    return "\\N".join(out)


def _join_escaped(parts: list[str], plain: list[str]) -> str:
    out = ""
    for k, part in enumerate(parts):
        if k and not (
            layout.needs_own_breaks(plain[k - 1][-1]) and layout.needs_own_breaks(plain[k][0])
        ):
            out += " "
        out += part
    return out


def _highlight_colour(rgba: str) -> str:
    """`0xRRGGBBAA` as the `&HBBGGRR&` an inline colour tag takes (its alpha is the style's)."""
    return "&H" + ass.colour(rgba)[4:] + "&"


def timed_texts(
    captions: spec.Captions,
    size: tuple[int, int],
    total_ms: int,
    narrated: Sequence[Sequence[spec.Cue]] = (),
) -> list[tuple[int, int, str]]:
    """(start, end, ASS text) of every caption event, by start: the cues as lines, the words
    of `captions.words` and of each stream of `narrated` (words already on the output
    timeline: `offset` is not added) in `captions.mode`."""
    st = captions.style
    m = layout.safe_margin(size)
    width = min(st.max_width or size[0] - 2 * m, size[0] - 2 * m)
    em = float(st.size)
    out = [
        (
            c.start_ms,
            c.end_ms,
            "\\N".join(map(ass.escape_text, layout.break_lines(c.text, width, em))),
        )
        for c in timed(captions.cues, captions.offset_ms, total_ms)
    ]
    streams = [timed(captions.words, captions.offset_ms, total_ms)]
    streams += [timed(stream, 0, total_ms) for stream in narrated]
    colour = _highlight_colour(st.highlight_color)
    for words in streams:
        out += _word_texts(words, captions.mode, width, em, colour)
    # stable: each source's own order stays (libass stacks overlapping events in this order)
    return sorted(out, key=lambda event: event[0])


def _word_texts(
    words: list[spec.Cue], mode: str, width: int, em: float, colour: str
) -> list[tuple[int, int, str]]:
    """One stream of words as events: grouped lines, the group with the spoken word
    highlighted, or one word at a time."""
    words = [replace(w, text=" ".join(w.text.split())) for w in words]
    if mode == "word":
        return [(w.start_ms, w.end_ms, ass.escape_text(w.text)) for w in words]
    out = []
    for grp in group(words, width, em):
        texts = [w.text for w in grp]
        lines = _lines(texts, width, em)
        start, end = grp[0].start_ms, max(w.end_ms for w in grp)
        if mode == "lines":
            out.append((start, end, _render_group(texts, lines, None, colour)))
            continue
        for i, word in enumerate(grp):
            until = grp[i + 1].start_ms if i + 1 < len(grp) else end
            if until > word.start_ms:
                out.append((word.start_ms, until, _render_group(texts, lines, i, colour)))
    return out


def events(
    captions: spec.Captions,
    size: tuple[int, int],
    total_ms: int,
    face: FontFace,
    layer: int,
    styles: list[ass.Style],
    narrated: Sequence[Sequence[spec.Cue]] = (),
) -> list[ass.Event]:
    """The caption events (and their styles, appended to `styles`); `narrated`: streams of
    words on the output timeline drawn with them (graph/narration_captions.py)."""
    st = captions.style
    alignment, margin_v = margins(captions.position, size)
    m = layout.safe_margin(size)
    side = max(m, (size[0] - (st.max_width or size[0])) // 2)
    kinds = ass.text_styles(st, face, "cap", "capbox", alignment)
    styles.extend(kinds)
    fad = f"{{\\fad({st.fade_in_ms},{st.fade_out_ms})}}" if st.fade_in_ms or st.fade_out_ms else ""
    out = []
    for start, end, text in timed_texts(captions, size, total_ms, narrated):
        for k, style in enumerate(kinds):
            out.append(
                ass.Event(
                    layer=layer + k,
                    start_ms=start,
                    end_ms=end,
                    style=style.name,
                    text=fad + text,
                    margin_l=side,
                    margin_r=side,
                    margin_v=margin_v,
                )
            )
    return out
