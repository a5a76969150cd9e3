"""What one render's FFmpeg will need in memory, from its shape, before it starts.

Two figures, because two limits apply:
- the resident set (RSS), what the machine must hold: the pool admits renders by it;
- the address space, what RLIMIT_AS (FFMPEG_MAX_MEMORY_MB) caps: it counts every thread's
  reserved stack and glibc's malloc arenas, so it grows with threads, not with frames.

The model is linear in the parts that stay open for the whole run. FFmpeg 5.1 keeps every
input's demuxer, decoder and filter chain (with its buffer pools) until it exits, so each clip
costs its decoder's frames, and each crossfade its 4:4:4 conversion (xfade takes no 4:2:0);
the frames in flight no longer grow with the timeline (graph/join.py). A render by parts
(graph/parts.py) needs its main FFmpeg plus its largest part, which run side by side (the
sound pass before them holds only sound demuxers, ~1.5 MiB a clip). Coefficients were fitted
on this machine (2 cores, FFmpeg 5.1.x, x264 164) from peak RSS and VmPeak of 5- and 30-clip
renders, 720p and 1080p output, 480p and 1080p H.264 sources, cuts and crossfades, presets
ultrafast and medium (README, "Render memory"); tests/render/test_render_memory.py keeps them
honest against measured peaks.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from vidsvc import spec
from vidsvc.graph import parts
from vidsvc.graph.model import Graph

BASE_MB = 70.0  #: FFmpeg itself (its libraries alone are ~40 MiB resident), muxer, audio side
PART_BASE_MB = 45.0  #: a part: FFmpeg writing raw pictures (no encoder, muxer or text engine)
ENCODER_MB_PER_MP = 45.0  #: x264's own pictures at a preset without lookahead
LOOKAHEAD_MB_PER_MP = 5.0  #: x264's lookahead adds this per frame of rc-lookahead
#: Per open video input: a + b * MP + c * sqrt(MP) of its pictures, fitted on 240p, 480p and
#: 1080p H.264 sources (9, 17 and 35 MiB each): decoder state grows slower than its frames.
INPUT_MB = 3.5
INPUT_MB_PER_MP = 1.5
INPUT_MB_PER_SQRT_MP = 20.1
LEAN_INPUT_SHARE = 0.6  #: with one decoding thread (`lean`): 21 MiB instead of 35 at 1080p
AUDIO_INPUT_MB = 1.5  #: per sound-only input (a clip's sound demuxer, music, voiceover)
TRANSITION_MB_PER_MP = 11.8  #: per crossfade, per output megapixel (its 4:4:4 frames)
#: per further rendition, in the main FFmpeg and in a part: its chains' threads and frame pools
#: beyond its encoder (the split, scale and crop of its shape, the stacked frames of parts):
#: fitted on three renditions by parts at 180p (209 MiB measured, 203 estimated without it)
#: and at 720p (30 clips: 1121 MiB measured, 1065 estimated without the per-MP term)
RENDITION_MB = 10.0
RENDITION_MB_PER_MP = 40.0
MARGIN = 1.1  #: above the fit: the same render measured up to 1.2x apart (thread timing)
#: Address space beyond the resident set, fitted on VmPeak (5 and 30 clips, 46 to 395 threads):
#: glibc's malloc arenas (reserved, mostly untouched) and about 7 MiB per thread (its stack).
ARENAS_MB_PER_CORE = 580
THREAD_MB = 7
MIN_THREADS = 46  #: a one-input render: x264's threads and lookahead, the filter graph's pool
#: x264's rc-lookahead per preset (x264 164): what the encoder holds grows with it.
LOOKAHEAD = {
    "ultrafast": 0, "superfast": 0, "veryfast": 10, "faster": 20, "fast": 30,
    "medium": 40, "slow": 50, "slower": 60, "veryslow": 60, "placebo": 60,
}  # fmt: skip
MP = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """What a render holds open for its whole run."""

    output: tuple[int, int]
    preset: str
    #: further renditions' frames (output.renditions): each has its own encoder, and its own
    #: crossfades (counted in `transitions`, which holds every rendition's)
    more: tuple[tuple[int, int], ...] = ()
    video_inputs: tuple[int, ...]  #: pixels of each open video input's pictures
    audio_inputs: int  #: sound-only inputs
    transitions: int  #: crossfades (xfade filters)
    #: one thread per decoder and for the filter graph (compile.Encoding.lean): a third of the
    #: address space and two thirds of the memory of many inputs, about 20 % slower
    lean: bool = False
    encodes: bool = True  #: False for a part (graph/parts.py): it writes raw pictures
    #: the parts that feed this render's pictures; one runs at a time, beside this one
    parts: tuple[Shape, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    rss_mb: int  #: peak resident set
    address_mb: int  #: peak address space (what RLIMIT_AS sees)

    def summary(self) -> dict[str, int]:
        return {"memory_estimate_mb": self.rss_mb, "address_space_estimate_mb": self.address_mb}


def shape_of(
    built: Graph,
    output: tuple[int, int],
    preset: str,
    pixels: Mapping[str, int],
    more: tuple[tuple[int, int], ...] = (),
) -> Shape:
    """The shape of a built graph; `pixels`: each input file's picture size (0: sound only);
    `more`: the further renditions' sizes. An input read by every rendition is one decoder."""
    video: list[int] = []
    sound = 0
    for item in built.inputs:
        size = pixels.get(item.path, 0)
        if size and "-vn" not in item.options:
            video.append(size)
        else:
            sound += 1
    transitions = sum(1 for f in built.filters if f.name == "xfade")
    parts = tuple(
        replace(shape_of(part, output, preset, pixels, more), encodes=False)
        for part in built.feeds
    )
    return Shape(
        output=output,
        more=more,
        preset=preset,
        video_inputs=tuple(video),
        audio_inputs=sound,
        transitions=transitions,
        parts=parts,
    )


def least_shape(comp: spec.Composition, preset: str, part_clips: int = 0) -> Shape:
    """The smallest shape `comp` can have whatever its inputs turn out to be (each clip a tiny
    picture without sound): what is knowable at POST, before anything is downloaded. Made by
    parts (graph/parts.py), it is the main render beside its largest part."""
    crossfades = [spec.is_crossfade(c.transition) for c in comp.clips]
    sizes = [shape.size for shape in comp.output.shapes()]
    output, more, copies = sizes[0], tuple(sizes[1:]), len(sizes)
    transitions = sum(crossfades[1:]) * copies
    clips = len(comp.clips)
    if not parts.split(clips, part_clips):
        return Shape(output=output, more=more, preset=preset, video_inputs=(0,) * clips,
                     audio_inputs=0, transitions=transitions)  # fmt: skip
    largest = max(
        (
            Shape(
                output=output,
                more=more,
                preset=preset,
                encodes=False,
                audio_inputs=0,
                video_inputs=(0,) * (end - first + (end < clips)),
                transitions=sum(crossfades[first + 1 : end + 1]) * copies,
            )
            for first, end in parts.ranges(clips, part_clips)
        ),
        key=lambda part: (len(part.video_inputs), part.transitions),
    )
    return Shape(output=output, more=more, preset=preset, video_inputs=(), audio_inputs=0,
                 transitions=0, parts=(largest,))  # fmt: skip


def with_lean(shape: Shape) -> Shape:
    """The same render with one thread per decoder, parts included."""
    return replace(shape, lean=True, parts=tuple(with_lean(p) for p in shape.parts))


def _input_mb(mp: float) -> float:
    return INPUT_MB + INPUT_MB_PER_MP * mp + INPUT_MB_PER_SQRT_MP * math.sqrt(mp)


def one_clip(shape: Shape) -> Shape:
    """The smallest render of the same output: one tiny clip, lean."""
    return Shape(output=shape.output, more=shape.more, preset=shape.preset, video_inputs=(0,),
                 audio_inputs=0, transitions=0, lean=True)  # fmt: skip


def estimate(shape: Shape, cores: int) -> Estimate:
    """The peak of a render of `shape` on `cores` CPUs (MiB, the model's margin included)."""
    own = _own(shape, cores)
    if not shape.parts:
        return own
    part = max((_own(p, cores) for p in shape.parts), key=lambda e: e.rss_mb)
    return Estimate(rss_mb=own.rss_mb + part.rss_mb, address_mb=own.address_mb + part.address_mb)


def _own(shape: Shape, cores: int) -> Estimate:
    frames = (shape.output, *shape.more)
    out_mp = sum(math.prod(size) for size in frames) / MP  #: every encoder's pictures
    lookahead = LOOKAHEAD.get(shape.preset, LOOKAHEAD["medium"])
    encoder = (ENCODER_MB_PER_MP + LOOKAHEAD_MB_PER_MP * lookahead) * out_mp
    rss = BASE_MB + encoder if shape.encodes else PART_BASE_MB
    share = LEAN_INPUT_SHARE if shape.lean else 1.0
    rss += share * sum(_input_mb(px / MP) for px in shape.video_inputs)
    rss += AUDIO_INPUT_MB * shape.audio_inputs
    rss += TRANSITION_MB_PER_MP * out_mp / len(frames) * shape.transitions
    rss += sum(RENDITION_MB + RENDITION_MB_PER_MP * math.prod(m) / MP for m in shape.more)
    # each video input: its decoder's frame threads (cores + 1) and the slice threads of the
    # scalers in its chain (about five per core)
    per_input = 1 if shape.lean else 2 + 6 * cores
    threads = max(MIN_THREADS, len(shape.video_inputs) * per_input)
    rss_mb = math.ceil(rss * MARGIN)
    return Estimate(
        rss_mb=rss_mb, address_mb=rss_mb + ARENAS_MB_PER_CORE * cores + THREAD_MB * threads
    )
