"""The texts of a composition as frozen values: overlays, captions, their style, fonts.

Times are integer milliseconds. Drawn by vidsvc.graph.text and vidsvc.graph.captions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

X_POSITIONS = ("center", "left", "right")
Y_POSITIONS = ("center", "top", "bottom")
DEFAULT_FONT = "DejaVu Sans"
TEXT_ALIGNS = ("left", "center", "right")
ANIMATIONS = ("none", "fade", "pop", "slide_up", "typewriter")
CAPTION_MODES = ("lines", "highlight", "word")
CAPTION_POSITIONS = ("bottom", "center", "top")


@dataclass(frozen=True, slots=True, kw_only=True)
class TextStyle:
    font: str = DEFAULT_FONT
    size: int = 48
    color: str = "0xFFFFFFFF"  #: normalized to 0xRRGGBBAA by the schema
    shadow: bool = False
    shadow_color: str = "0x000000B0"
    box: bool = False
    box_color: str = "0x00000080"
    box_padding: int = 12
    outline: int = 0  #: border width in pixels; 0 is none
    outline_color: str = "0x000000FF"
    fade_in_ms: int = 0
    fade_out_ms: int = 0
    max_width: int | None = None  #: wrap width in pixels; None: the frame minus safe margins
    align: str | None = None  #: a name from TEXT_ALIGNS; None: follows the x anchor
    highlight_color: str = "0xFFD700FF"  #: captions in mode `highlight`: the spoken word


@dataclass(frozen=True, slots=True, kw_only=True)
class TextOverlay:
    text: str
    x: str | int = "center"  #: a name from X_POSITIONS or pixels from the left
    y: str | int = "center"  #: a name from Y_POSITIONS or pixels from the top
    start_ms: int = 0
    duration_ms: int | None = None  #: None: until the end of the timeline
    style: TextStyle = field(default_factory=TextStyle)
    animation: str = "none"  #: a name from ANIMATIONS


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """One timed text: a caption line, or one spoken word."""

    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Captions:
    """Exactly one of url, cues or words is given (the schema checks; the runner fills `cues`
    from the file at `url`)."""

    url: str | None = None
    cues: tuple[Cue, ...] = ()
    words: tuple[Cue, ...] = ()
    mode: str = "lines"  #: a name from CAPTION_MODES
    position: str = "bottom"  #: a name from CAPTION_POSITIONS
    offset_ms: int = 0  #: added to every time (may be negative)
    style: TextStyle = field(default_factory=TextStyle)


@dataclass(frozen=True, slots=True, kw_only=True)
class FontSource:
    """A TTF/OTF file a composition brings, answering for `family` in `style.font`."""

    family: str
    url: str
