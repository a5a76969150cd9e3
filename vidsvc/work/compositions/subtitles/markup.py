"""Cue payloads as the text a player draws: the formats' markup read, never drawn.

WebVTT (W3C cue text): every tag is markup (`<c.class>`, `<i>`, `<b>`, `<u>`, `<v Speaker>`,
`<lang en>`, `<ruby>`, their end tags), and a `<` without its `>` runs to the end of the text as
the spec's tokenizer reads it. A voice's name is not drawn (browsers do not draw it either);
ruby keeps its base text and drops the `<rt>` annotation (one line of text has no room above
it). Inline timestamps (`<00:17.500>`) are word timings: the payload becomes spans, each the
text from one timestamp to the next (the first from the cue's start), so the words can be read
from them (`words.py`).

SRT (as players read it): `<i>`, `<b>`, `<u>`, `<s>` and `<font …>` tags and `{\\…}` override
blocks are removed (`{\\an8}`, top placement, is dropped: `captions.position` places every cue);
any other `<` or `{` is text, as VLC and mpv draw it.

Both: character references ending in `;` (`&amp;` `&lt;` `&gt;` `&nbsp;` `&lrm;` `&rlm;`, any
HTML name, `&#38;` `&#x26;`) are the characters; an `&` that starts none is drawn as typed.

Linear: one regular-expression scan of the payload, no backtracking across it.
"""

from __future__ import annotations

import html
import re

from vidsvc.work.compositions.subtitles.timing import timestamp_ms

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_VTT_TAG = re.compile(r"<([^>]*)(?:>|$)")
_COMMON = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": "\u00a0", "&lrm;": "\u200e",
           "&rlm;": "\u200f", "&quot;": '"', "&apos;": "'"}  # fmt: skip
_SRT_MARKUP = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^<>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)

Span = tuple[int | None, str]  #: (the inline timestamp it follows, None before the first; text)


def _reference(m: re.Match[str]) -> str:
    ref = m[0]
    return _COMMON.get(ref) or html.unescape(ref)


def entities(text: str) -> str:
    return _ENTITY.sub(_reference, text) if "&" in text else text


def vtt_text(payload: str) -> str:
    """The cue's drawn text (one C-level substitution unless it holds ruby)."""
    if "<r" in payload or "<R" in payload:
        return "".join(text for _, text in vtt_spans(payload))
    return entities(_VTT_TAG.sub("", payload))


def vtt_spans(payload: str) -> list[Span]:
    """The cue's drawn text, split at its inline timestamps."""
    spans: list[Span] = []
    at: int | None = None
    parts: list[str] = []
    in_rt = False  # inside <rt>: ruby annotations are not drawn
    pieces = _VTT_TAG.split(payload)  # text, tag, text, tag, ..., text
    for k in range(0, len(pieces), 2):
        if not in_rt and pieces[k]:
            parts.append(entities(pieces[k]))
        if k + 1 == len(pieces):
            break
        tag = pieces[k + 1].strip()
        if tag[:1].isdigit():
            ms = timestamp_ms(tag)
            if ms is not None:
                spans.append((at, "".join(parts)))
                at, parts = ms, []
        elif tag[:1] in ("r", "R", "/"):
            name = tag.split(None, 1)[0].split(".", 1)[0].lower() if tag else ""
            if name == "rt":
                in_rt = True
            elif name in ("/rt", "/ruby"):
                in_rt = False
    spans.append((at, "".join(parts)))
    return [s for s in spans if s[1] or s[0] is not None]


def srt_text(payload: str) -> str:
    """The SRT cue's drawn text."""
    return entities(_SRT_MARKUP.sub("", payload))


def drawn(text: str) -> str:
    """Lines with something to draw, each stripped (a payload's lines of spaces are not)."""
    return "\n".join(stripped for line in text.split("\n") if (stripped := line.strip()))
