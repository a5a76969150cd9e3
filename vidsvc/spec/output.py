"""A composition's output as frozen values: its shape, size, renditions, format, previews."""

from __future__ import annotations

from dataclasses import dataclass, replace

#: Output sizes by name. 180p and 360p exist for previews and fast tests.
RESOLUTIONS = {
    "180p": (320, 180),
    "360p": (640, 360),
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "1440p": (2560, 1440),  #: only with ENABLE_4K_OUTPUT (vidsvc.work.compositions.shape)
    "2160p": (3840, 2160),  #: only with ENABLE_4K_OUTPUT
}
#: Output aspect ratios as (long, short) for landscape names and (short, long) for portrait.
ASPECT_RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5), "4:3": (4, 3)}
FITS = ("contain", "cover", "blur")


@dataclass(frozen=True, slots=True, kw_only=True)
class Range:
    """A part of the timeline: from `start_ms`, `duration_ms` long."""

    start_ms: int
    duration_ms: int

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendition:
    """One more shape of the same video (`output.renditions[]`): None takes `output`'s own."""

    aspect_ratio: str
    resolution: str | None = None
    fit: str | None = None  #: the clips' default fit in this shape (a clip's own fit wins)


MAX_RENDITIONS = 4
#: output.format: the containers and codecs an output can be (graph/formats.py encodes them)
OUTPUT_FORMATS = ("mp4", "webm", "gif", "webp")
#: The animated-image formats: no sound; their own frame rate and width defaults.
ANIMATED_FORMATS = ("gif", "webp")
ANIMATED_FPS = 12
ANIMATED_WIDTH = 480


#: output.draft: the preview's short side, frame rate and x264 preset.
DRAFT_SHORT_SIDE = 360
DRAFT_FPS = 15
DRAFT_PRESET = "ultrafast"


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    resolution: str = "720p"
    fps: int = 30
    crf: int | None = None  #: None: DEFAULT_CRF
    preset: str | None = None  #: x264 preset; None: X264_PRESET
    format: str = "mp4"
    thumbnail_ms: int | None = None  #: None: one second in, or the middle if shorter
    aspect_ratio: str = "16:9"  #: a name from ASPECT_RATIOS; `resolution` names the short side
    width: int | None = None  #: with height: an exact size instead of resolution/aspect_ratio
    height: int | None = None
    fit: str = "contain"  #: the clips' default fit
    smart_render: bool = True  #: False: always one pass (README "Smart rendering")
    #: only this part of the timeline is rendered (docs/composition.md#previews)
    range: Range | None = None
    draft: bool = False  #: a fast preview: short side DRAFT_SHORT_SIDE, DRAFT_FPS, ultrafast
    #: every shape rendered from one decode of the inputs; () is `output`'s own shape alone
    renditions: tuple[Rendition, ...] = ()
    loop: int = 0  #: gif/webp: how many times the animation repeats; 0: forever

    @property
    def animated(self) -> bool:
        """An animated image (gif, webp): pictures only, no sound."""
        return self.format in ANIMATED_FORMATS

    def shapes(self) -> tuple[Output, ...]:
        """One Output per rendition (each its own size and default fit, nothing else
        changed); without renditions, this output alone."""
        if not self.renditions:
            return (self,)
        return tuple(
            replace(
                self,
                aspect_ratio=r.aspect_ratio,
                resolution=r.resolution or self.resolution,
                fit=r.fit or self.fit,
                width=self.width if self.animated else None,  # an animated image's width
                height=None,
                renditions=(),
            )
            for r in self.renditions
        )

    @property
    def size(self) -> tuple[int, int]:
        return output_size(self)

    @property
    def shape_key(self) -> str:
        """`WxH`: what the estimator learns throughput by."""
        w, h = self.size
        return f"{w}x{h}"


def output_size(out: Output) -> tuple[int, int]:
    """(width, height): width+height if given; else `resolution` is the short side (720p at 9:16
    is 720x1280) and 16:9 keeps the table's widths (480p is 854x480), other sides even. An
    animated image is `width` (default ANIMATED_WIDTH) wide, its height from the aspect ratio."""
    if out.animated and out.height is None:
        w = out.width or ANIMATED_WIDTH
        a, b = ASPECT_RATIOS[out.aspect_ratio]
        return w, 2 * round(w * b / a / 2)
    if out.draft:  # the full shape, its short side DRAFT_SHORT_SIDE (sides even)
        w, h = output_size(replace(out, draft=False))
        scale = DRAFT_SHORT_SIDE / min(w, h)
        return 2 * round(w * scale / 2), 2 * round(h * scale / 2)
    if out.width is not None and out.height is not None:
        return out.width, out.height
    long16, short = RESOLUTIONS[out.resolution]
    a, b = ASPECT_RATIOS[out.aspect_ratio]
    if a == b:
        return short, short
    if (a, b) == (16, 9):
        return long16, short
    long = 2 * round(short * max(a, b) / min(a, b) / 2)
    return (long, short) if a > b else (short, long)
