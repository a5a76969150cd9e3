"""The filter graph as data: inputs, filters between labelled pads, outputs (typed-ffmpeg's shape).

Labels are plain strings: `0:v`/`0:a` for input streams, `v3`/`a7` for the builder's pads (the
prefix is the pad's kind). `Graph.check()` enforces the rule FFmpeg only half-enforces: every pad
is produced once and consumed once, and video pads feed video filters only.

Pure: imports nothing from vidsvc.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

#: Filters whose pads carry audio; everything else in our graphs is video.
AUDIO_FILTERS = frozenset(
    "acrossfade adelay afade aformat alimiter amix anullsrc apad aresample asetpts atrim "
    "concat_a loudnorm volume".split()
    + "asplit sidechaincompress ebur128 anullsink".split()  # ducking, loudness
)


#: By parts (graph/parts.py): the pipe the parts write and the main FFmpeg reads (a FIFO in the
#: render's workspace), and the clips' sound, joined by an audio-only pass before it starts.
FEED = "pictures.fifo"
SOUND = "sound.wav"


class GraphError(ValueError):
    """The builder produced an ill-formed graph: a bug in vidsvc, never a user error."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A probed, staged input as the builder needs it: a workspace-relative name and facts."""

    name: str
    duration_ms: int
    has_video: bool
    has_audio: bool
    still: bool = False  #: a single image (png/jpeg/webp): one frame, held for the clip
    demuxer: str | None = None  #: forced with `-f` (stills: the probed image pipe demuxer)
    decoder: str | None = None  #: forced with `-c:v` (VP9 with alpha: libvpx-vp9)

    @property
    def open_options(self) -> tuple[str, ...]:
        """Input options that pin how this source is read (before any seek)."""
        options = ("-f", self.demuxer) if self.demuxer else ()
        return options + (("-c:v", self.decoder) if self.decoder else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class FontFace:
    """A resolved font as the text engine needs it (the runner reads these facts from the file)."""

    path: str
    family: str  #: the family name libass finds the file by (fontconfig or fontsdir)
    #: libass sizes a font by its full height, (usWinAscent + usWinDescent) / unitsPerEm em, while
    #: `style.size` is the em size (drawtext's meaning): the ASS size is size * em_ratio.
    em_ratio: float = 1.0
    bold: bool = False  #: the file's own weight and slant, asked of libass so it picks this file
    italic: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    path: str  #: workspace-relative, service-chosen (`in0.mp4`)
    options: tuple[str, ...] = ()  #: input options placed before `-i` (seek, loop)
    #: raw pictures from the parts' pipe (graph/parts.py), not a staged file
    raw: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Filter:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    args: tuple[tuple[str, str], ...] = ()  #: (key, value); an empty key is positional

    @property
    def kind(self) -> str:
        base = "concat_a" if self.name == "concat" and self.outputs[0][0] == "a" else self.name
        return "a" if base in AUDIO_FILTERS else "v"


@dataclass(frozen=True, slots=True, kw_only=True)
class Graph:
    inputs: tuple[Input, ...]
    filters: tuple[Filter, ...]
    outputs: tuple[str, ...]  #: labels mapped to output streams, in -map order
    files: Mapping[str, str] = field(default_factory=dict)  #: side files (the ASS document)
    #: workspace-relative names to link to existing files (the fonts libass must load)
    links: Mapping[str, str] = field(default_factory=dict)
    #: graphs of the parts that make this one's pictures, in order (graph/parts.py); each has
    #: one output, the pictures it writes to the pipe
    feeds: tuple[Graph, ...] = ()
    #: with parts: the clips' sound, joined before this graph runs (one output, graph/parts.py)
    sound: Graph | None = None
    #: how many chains may read one input pad: one per rendition (GraphBuilder.sharing)
    readers: int = 1

    def check(self) -> None:
        """Raise GraphError unless each pad is produced once and consumed once (an input's
        pad: by at most `readers` chains)."""
        produced = Counter(label for f in self.filters for label in f.outputs)
        consumed = Counter(label for f in self.filters for label in f.inputs)
        consumed.update(label for label in self.outputs if label)  # "": no sound
        for label in produced + consumed:
            if ":" in label:
                index = int(label.split(":")[0])
                if not 0 <= index < len(self.inputs) or not 1 <= consumed[label] <= self.readers:
                    raise GraphError(f"input pad {label} used {consumed[label]} times")
            elif produced[label] != 1 or consumed[label] != 1:
                raise GraphError(
                    f"pad {label} produced {produced[label]}x, consumed {consumed[label]}x"
                )
        for f in self.filters:
            for label in f.inputs:
                if _kind(label) != f.kind and f.name != "concat":
                    raise GraphError(f"{label} ({_kind(label)}) feeds {f.name} ({f.kind})")


def _kind(label: str) -> str:
    return label.split(":")[1] if ":" in label else label[0]
