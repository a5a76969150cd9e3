"""The ASS (Advanced SubStation Alpha) document: header, styles, events, and literal text.

One document per render holds every text the render draws; libass (FFmpeg's `ass` filter)
draws it in the same single pass. User text must be drawn exactly as given, never read as
ASS syntax. What libass 0.17 (Debian bookworm) reads inside an event's text, and how each is
neutralised here (verified by rendering, tests/render/test_text_engine.py):

- `{` opens an override block up to the next `}`: written `\\{` (and `}` as `\\}`), the
  escapes libass itself defines for literal braces;
- `\\N`, `\\n`, `\\h`, `\\{`, `\\}`: a backslash is always followed by U+2060 WORD JOINER,
  a zero-width, default-ignorable character, so no backslash can start an escape (the
  joiner is invisible and changes no glyph);
- a line break ends the event line in the file: `\\n` in the text becomes `\\N` (ours);
- `,` only separates fields before the Text field, which is the last one: commas are literal.

Fields we write from our own values (names, colours, numbers) never carry user text; a font
family name is reduced to characters that cannot end a field or a line.

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vidsvc.graph.model import FontFace
from vidsvc.spec import TextStyle

WORD_JOINER = "\u2060"
STYLE_FIELDS = (
    "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
    "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, "
    "Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
)
EVENT_FIELDS = "Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"
_UNSAFE_NAME = re.compile(r"[,\r\n\x00-\x1f{}\\]")


def escape_text(text: str) -> str:
    """User text as literal ASS event text (line breaks become `\\N`)."""
    out = text.replace("\r\n", "\n").replace("\r", "\n")
    out = out.replace("\\", "\\" + WORD_JOINER)
    out = out.replace("{", "\\{").replace("}", "\\}")
    return out.replace("\n", "\\N")


def colour(rgba: str) -> str:
    """`0xRRGGBBAA` (the schema's form) as ASS `&HAABBGGRR` (ASS alpha: 00 is opaque)."""
    value = rgba[2:] if rgba.lower().startswith("0x") else rgba
    r, g, b, a = value[0:2], value[2:4], value[4:6], value[6:8] or "FF"
    return f"&H{255 - int(a, 16):02X}{b}{g}{r}".upper()


def timestamp(ms: int) -> str:
    """ASS time `h:mm:ss.cc` (centiseconds, rounded)."""
    cs = max(0, round(ms / 10))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    name: str
    font: str
    size: float
    primary: str  #: ASS colours (`&HAABBGGRR`)
    outline_colour: str
    back: str
    border_style: int = 1  #: 1: outline and drop shadow; BOX: a box behind the whole event
    outline: float = 0
    shadow: float = 0
    alignment: int = 7
    bold: bool = False
    italic: bool = False

    def line(self) -> str:
        font = _UNSAFE_NAME.sub(" ", self.font).strip() or "sans-serif"
        fields = [
            self.name,
            font,
            number(self.size),
            self.primary,
            self.primary,
            self.outline_colour,
            self.back,
            "-1" if self.bold else "0",
            "-1" if self.italic else "0",
            "0,0,100,100,0,0",
            str(self.border_style),
            number(self.outline),
            number(self.shadow),
            str(self.alignment),
            "0,0,0,1",
        ]
        return "Style: " + ",".join(fields)


#: libass' BorderStyle 4: one rectangle behind the whole event in BackColour, padded by the
#: shadow size. BorderStyle 3 boxes each line on its own, and a translucent box then shows a
#: darker band where two lines' boxes overlap; drawtext's box was one rectangle too.
BOX = 4


def box_style(
    name: str, face: FontFace, size: float, colour: str, padding: float, alignment: int = 7
) -> Style:
    """The style of a box event: invisible text of the same layout under the drawn text."""
    return Style(
        name=name,
        font=face.family,
        size=size,
        primary="&HFF000000",  # the text itself is the other event's
        outline_colour="&HFF000000",
        back=colour,
        border_style=BOX,
        shadow=padding,
        alignment=alignment,
        bold=face.bold,
        italic=face.italic,
    )


def text_styles(
    st: TextStyle, face: FontFace, name: str, box: str, alignment: int = 7
) -> list[Style]:
    """The styles of a text drawn in `st` with `face`: its own, after its box's when it has
    one (the box event goes under the text). Overlays and captions both draw through these."""
    size = st.size * face.em_ratio
    text = Style(
        name=name,
        font=face.family,
        size=size,
        primary=colour(st.color),
        outline_colour=colour(st.outline_color),
        back=colour(st.shadow_color),
        outline=st.outline,
        shadow=max(1, st.size // 24) if st.shadow else 0,
        alignment=alignment,
        bold=face.bold,
        italic=face.italic,
    )
    if not st.box:
        return [text]
    return [box_style(box, face, size, colour(st.box_color), st.box_padding, alignment), text]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    layer: int
    start_ms: int
    end_ms: int
    style: str
    text: str  #: already ASS: our override tags plus escape_text() of the user's text
    margin_l: int = 0
    margin_r: int = 0
    margin_v: int = 0

    def line(self) -> str:
        fields = [
            str(self.layer),
            timestamp(self.start_ms),
            timestamp(self.end_ms),
            self.style,
            "",
            str(self.margin_l),
            str(self.margin_r),
            str(self.margin_v),
            "",
            self.text,
        ]
        return "Dialogue: " + ",".join(fields)


def document(size: tuple[int, int], styles: list[Style], events: list[Event]) -> str:
    """The whole file; PlayRes is the output size, so every number is in output pixels."""
    w, h = size
    lines = [
        "[Script Info]",
        "; written by vidsvc: every text of one render",
        "ScriptType: v4.00+",
        f"PlayResX: {w}",
        f"PlayResY: {h}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        f"Format: {STYLE_FIELDS}",
        *(s.line() for s in styles),
        "",
        "[Events]",
        f"Format: {EVENT_FIELDS}",
        *(e.line() for e in events),
        "",
    ]
    return "\n".join(lines)
