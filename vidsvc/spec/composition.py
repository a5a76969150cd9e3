"""A composition's clips, sound, output and image/video overlays, and its inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from vidsvc.spec.grade import Grade
from vidsvc.spec.output import Output
from vidsvc.spec.sound import Audio
from vidsvc.spec.text import DEFAULT_FONT, Captions, Cue, FontSource, TextOverlay

#: Transitions with a meaning of their own; every other accepted name is an xfade shape.
BASIC_TRANSITIONS = ("cut", "fade", "crossfade")
#: FFmpeg 5.1's xfade shapes, accepted by name as crossfades of that shape (never passed raw).
XFADE_SHAPES = (
    "fade wipeleft wiperight wipeup wipedown slideleft slideright slideup slidedown "
    "circlecrop rectcrop distance fadeblack fadewhite radial smoothleft smoothright "
    "smoothup smoothdown circleopen circleclose vertopen vertclose horzopen horzclose "
    "dissolve pixelize diagtl diagtr diagbl diagbr hlslice hrslice vuslice vdslice "
    "hblur fadegrays wipetl wipetr wipebl wipebr squeezeh squeezev"
).split()
TRANSITIONS = (*BASIC_TRANSITIONS, *(s for s in XFADE_SHAPES if s != "fade"))
COLOR_PRESETS = ("none", "warm", "cool", "vivid", "muted", "bw")
#: What a clip shorter than its narration does with the rest (clips[].extend).
EXTENDS = ("hold", "loop", "slow")
#: `slow` slows a clip at most this much, then holds its last frame.
MAX_SLOWDOWN = 2.0
#: Demuxers FFmpeg may use on inputs (probe and render): no playlists, concat scripts or images.
INPUT_FORMATS = (
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "avi",
    "mpegts",
    "flv",
    "ogg",
    "mp3",
    "wav",
    "flac",
    "aac",
    # The containers people have, and stills. Images only through the single-image
    # pipe demuxers: image2 would expand `%d` and globs in a file name (see graph.pictures).
    "mpeg",
    "asf",
    "aiff",
    "ac3",
    "eac3",
    "png_pipe",
    "jpeg_pipe",
    "webp_pipe",
)
DEFAULT_TRANSITION_MS = 500


def is_crossfade(transition: str) -> bool:
    """True for `crossfade` and every xfade shape: the clip overlaps its predecessor."""
    return transition not in ("cut", "fade")


@dataclass(frozen=True, slots=True, kw_only=True)
class Clip:
    url: str
    start_ms: int | None = None  #: placement on the output timeline
    end_ms: int | None = None
    trim_start_ms: int | None = None  #: range picked from the source
    trim_end_ms: int | None = None
    transition: str = "cut"  #: transition into this clip from the previous one
    transition_ms: int = 0
    volume: float = 1.0
    color_preset: str | None = None  #: None: the composition's default
    duration_ms: int | None = None  #: the clip's length, instead of end_time (stills need one)
    fit: str | None = None  #: a name from FITS; None: output.fit
    motion: str = "none"  #: a name from MOTIONS
    motion_amount: float = 0.1  #: 0-0.5: the zoom or travel over the whole clip
    # Narration (docs/composition.md#narration): a voice track of this clip's own.
    voiceover_url: str | None = None
    voiceover_offset_ms: int = 0  #: after the incoming transition has ended
    voiceover_volume: float | None = None  #: None: audio.voiceover_volume
    voiceover_padding_ms: int = 250  #: with duration "voiceover": after the audible end
    duration_from_voiceover: bool = False  #: `duration: "voiceover"`
    #: a name from EXTENDS: what a source shorter than the clip does for the rest; None: a
    #: clip with `duration_from_voiceover` holds, any other must fit its source
    extend: str | None = None
    voiceover_text: str | None = None  #: captioned over the narration's audible span
    voiceover_words: tuple[Cue, ...] = ()  #: word timings from the narration's start
    #: replaces the composition's grade whole (no merge per field); None: the composition's
    grade: Grade | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Composition:
    clips: tuple[Clip, ...]
    #: text, image and video overlays in the request's order (pictures are drawn in it, the
    #: texts over all of them); an error's `overlays[i]` is the position here
    overlays: tuple[TextOverlay | ImageOverlay | VideoOverlay, ...] = ()
    audio: Audio = field(default_factory=Audio)
    output: Output = field(default_factory=Output)
    color_preset: str = "none"
    user_id: str | None = None
    cache: bool = True  #: false: render afresh rather than reuse an identical render
    captions: Captions | None = None
    fonts: tuple[FontSource, ...] = ()
    grade: Grade | None = None  #: every clip's grade unless the clip has its own

    @property
    def texts(self) -> tuple[TextOverlay, ...]:
        return tuple(o for o in self.overlays if isinstance(o, TextOverlay))

    @property
    def pictures(self) -> tuple[ImageOverlay | VideoOverlay, ...]:
        """The image and video overlays, in order."""
        return tuple(o for o in self.overlays if not isinstance(o, TextOverlay))

    def place_of(self, overlay: TextOverlay | ImageOverlay | VideoOverlay) -> int:
        """Where `overlay` (one of this composition's, itself) is in the request's `overlays`:
        what an error names."""
        return next(i for i, o in enumerate(self.overlays) if o is overlay)

    def text_fonts(self) -> tuple[str, ...]:
        """Every font family the texts ask for (overlays, then captions), sorted, distinct."""
        names = {o.style.font for o in self.texts}
        if self.captions is not None:
            names.add(self.captions.style.font)
        elif any(c.voiceover_text or c.voiceover_words for c in self.clips):
            names.add(DEFAULT_FONT)  # narration is captioned in the default style
        return tuple(sorted(names))

    def inputs(self) -> tuple[Input, ...]:
        """Every URL the composition reads, in the request's order, each with its field: the
        one list that URL checks, staging, the render cache and the CLI's paths go by."""
        found = [Input(c.url, f"clips[{i}].url", "clip") for i, c in enumerate(self.clips)]
        found += [
            Input(o.url, f"overlays[{i}].url", "overlay")
            for i, o in enumerate(self.overlays)
            if not isinstance(o, TextOverlay)
        ]
        found += [
            Input(c.voiceover_url, f"clips[{i}].voiceover_url", "narration")
            for i, c in enumerate(self.clips)
            if c.voiceover_url
        ]
        for kind in ("music", "voiceover"):
            if url := getattr(self.audio, f"{kind}_url"):
                found.append(Input(url, f"audio.{kind}_url", kind))
        found += [
            Input(t.url, f"audio.tracks[{i}].url", "track")
            for i, t in enumerate(self.audio.tracks)
        ]
        if self.captions is not None and self.captions.url is not None:
            found.append(Input(self.captions.url, "captions.url", "captions"))
        found += [Input(f.url, f"fonts[{i}].url", "font") for i, f in enumerate(self.fonts)]
        if self.grade is not None and self.grade.lut_url:
            found.append(Input(self.grade.lut_url, "grade.lut_url", "lut"))
        found += [
            Input(c.grade.lut_url, f"clips[{i}].grade.lut_url", "lut")
            for i, c in enumerate(self.clips)
            if c.grade is not None and c.grade.lut_url
        ]
        return tuple(found)

    def with_urls(self, new: Callable[[Input], str]) -> Composition:
        """The composition with the URL of every input replaced by `new(input)`."""
        url = {i.field: new(i) for i in self.inputs()}
        a = self.audio
        audio = replace(
            a,
            music_url=url.get("audio.music_url", a.music_url),
            voiceover_url=url.get("audio.voiceover_url", a.voiceover_url),
            tracks=tuple(
                replace(t, url=url[f"audio.tracks[{i}].url"]) for i, t in enumerate(a.tracks)
            ),
        )
        cap = self.captions
        return replace(
            self,
            clips=tuple(
                replace(
                    c,
                    url=url[f"clips[{i}].url"],
                    voiceover_url=url.get(f"clips[{i}].voiceover_url", c.voiceover_url),
                    grade=_graded(c.grade, url.get(f"clips[{i}].grade.lut_url")),
                )
                for i, c in enumerate(self.clips)
            ),
            overlays=tuple(
                o if isinstance(o, TextOverlay) else replace(o, url=url[f"overlays[{i}].url"])
                for i, o in enumerate(self.overlays)
            ),
            audio=audio,
            captions=replace(cap, url=url["captions.url"]) if cap and cap.url else cap,
            fonts=tuple(replace(f, url=url[f"fonts[{i}].url"]) for i, f in enumerate(self.fonts)),
            grade=_graded(self.grade, url.get("grade.lut_url")),
        )


def _graded(grade: Grade | None, lut_url: str | None) -> Grade | None:
    """`grade` with its LUT's URL replaced (as it is without a LUT)."""
    return grade if grade is None or lut_url is None else replace(grade, lut_url=lut_url)


#: The inputs staged together, probed and read by FFmpeg; captions, fonts and LUTs are read by
#: us (a LUT is parsed and rewritten before FFmpeg's lut3d reads our copy).
MEDIA_INPUTS = ("clip", "overlay", "narration", "music", "voiceover", "track")


@dataclass(frozen=True, slots=True)
class Input:
    """One URL a composition reads, and the field that gave it (errors name the field)."""

    url: str
    field: str  #: e.g. "clips[2].url"
    kind: str  #: clip, overlay, narration, music, voiceover, track, captions, font or lut

    @property
    def media(self) -> bool:
        return self.kind in MEDIA_INPUTS


# --- motion, image and video overlays ---------------------------------------------

MOTIONS = ("none", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down")
LAYER_TYPES = ("image", "video")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageOverlay:
    """An image drawn over the clips (under text), from start_ms for duration_ms."""

    url: str
    x: str | int = "right"  #: a name from X_POSITIONS (inside the safe margin) or pixels
    y: str | int = "top"
    width: int | None = None  #: one of width/height (aspect kept); neither: the file's size
    height: int | None = None
    opacity: float = 1.0
    start_ms: int = 0
    duration_ms: int | None = None  #: None: to the end of the timeline
    fade_in_ms: int = 0
    fade_out_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoOverlay(ImageOverlay):
    """A video drawn like an image (picture-in-picture); its sound mixed in at `volume`."""

    trim_start_ms: int = 0
    trim_end_ms: int | None = None  #: None: as long as duration (or the source) allows
    volume: float = 0.0
