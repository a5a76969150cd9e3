"""The audio side of the graph: clip tracks, silence, music and voiceover beds, the final mix.

Everything is resampled to 48 kHz stereo float before it meets anything else; lengths are
counted in samples so the bed matches the video to the sample. The mix adds the tracks at their
own volumes (no amix normalization, which would quietly halve everything) and a limiter keeps
the sum below -1 dBFS instead of clipping. Ducking (graph/ducking.py) lowers the music under the
voiceover; a loudness target (graph/loudness.py) applies a gain measured on this same mix.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping

from vidsvc import spec
from vidsvc.graph import ducking
from vidsvc.graph import loudness as loudness_stage
from vidsvc.graph.builder import Arg, GraphBuilder
from vidsvc.graph.model import Source
from vidsvc.graph.timeline import ClipSlot

RATE = 48_000
LIMIT = 0.891  # -1 dBFS
_FORMAT: tuple[str, dict[str, Arg]] = (
    "aformat",
    {"sample_fmts": "fltp", "sample_rates": RATE, "channel_layouts": "stereo"},
)


def silence(g: GraphBuilder, samples: int) -> str:
    pad = g.add_audio("anullsrc", (), r=RATE, cl="stereo")
    return g.chain(pad, ("atrim", {"end_sample": samples}), _FORMAT)


def _normalized(g: GraphBuilder, index: int) -> str:
    return g.chain(
        f"{index}:a",
        ("asetpts", {"expr": "PTS-STARTPTS"}),
        ("aresample", {"sample_rate": RATE}),
        _FORMAT,
    )


def clip_track(g: GraphBuilder, index: int | None, slot: ClipSlot) -> str:
    """A clip's own audio (or silence) at its volume, exactly as long as the clip, with fades."""
    samples = slot.dur_ms * RATE // 1000
    if index is None:
        pad = silence(g, samples)
    else:
        pad = g.chain(
            _normalized(g, index),
            ("apad", {"whole_len": samples}),
            ("atrim", {"end_sample": samples}),
        )
        if slot.volume != 1.0:
            pad = g.chain(pad, ("volume", {"volume": slot.volume}))
    return _fades(g, pad, samples, slot.look.fade_in_ms, slot.look.fade_out_ms)


def _fades(g: GraphBuilder, pad: str, samples: int, in_ms: int, out_ms: int) -> str:
    """Fade in over the first in_ms and out over the last out_ms of a track `samples` long."""
    if in_ms:
        pad = g.chain(pad, ("afade", {"t": "in", "ss": 0, "ns": in_ms * RATE // 1000}))
    if out_ms:
        fade = out_ms * RATE // 1000
        pad = g.chain(pad, ("afade", {"t": "out", "ss": samples - fade, "ns": fade}))
    return pad


def _music(g: GraphBuilder, a: spec.Audio, total_ms: int, source: Source) -> str:
    samples = total_ms * RATE // 1000
    options: tuple[str, ...] = ()
    if a.music_loop and source.duration_ms - a.music_start_ms < total_ms:
        options += ("-stream_loop", "-1")
    if a.music_start_ms:
        options += ("-ss", f"{a.music_start_ms / 1000:.3f}")
    pad = g.chain(
        _normalized(g, g.input(source.name, options)),
        ("atrim", {"end_sample": samples}),
        ("apad", {"whole_len": samples}),
        ("volume", {"volume": a.music_volume}),
    )
    return _fades(g, pad, samples, a.music_fade_in_ms, a.music_fade_out_ms)


def _voiceover(g: GraphBuilder, a: spec.Audio, total_ms: int, source: Source) -> str:
    samples = total_ms * RATE // 1000
    pad = g.chain(
        _normalized(g, g.input(source.name)),
        ("volume", {"volume": a.voiceover_volume}),
    )
    # fades on the voice's own clock, before its delay: out ends where it stops being heard
    heard_ms = min(source.duration_ms, total_ms - a.voiceover_delay_ms)
    heard = heard_ms * RATE // 1000
    pad = _fades(g, pad, heard, a.voiceover_fade_in_ms, min(a.voiceover_fade_out_ms, heard_ms))
    if a.voiceover_delay_ms:
        pad = g.chain(pad, ("adelay", {"delays": f"{a.voiceover_delay_ms}", "all": 1}))
    return g.chain(pad, ("apad", {"whole_len": samples}), ("atrim", {"end_sample": samples}))


def mix(
    g: GraphBuilder,
    bed: str,
    a: spec.Audio,
    total_ms: int,
    sources: Mapping[str, Source],
    loudness: loudness_stage.Measured | None = None,
) -> str:
    """Clip audio + music + voiceover, summed and limited; with `loudness` (a measured fact of
    this same mix), brought to the composition's loudness target."""
    tracks = [bed]
    music = _music(g, a, total_ms, sources[a.music_url]) if a.music_url else None
    voice = _voiceover(g, a, total_ms, sources[a.voiceover_url]) if a.voiceover_url else None
    if music and voice and a.ducking:
        voice, key = g.add_many("asplit", (voice,), "aa", 2)
        music = ducking.duck(g, music, key, a.ducking)
    tracks += [t for t in (music, voice) if t]
    pad = bed
    if len(tracks) > 1:
        pad = g.add_audio("amix", tracks, inputs=len(tracks), normalize=0, duration="first")
    pad = g.chain(pad, ("alimiter", {"limit": LIMIT, "level": 0, "latency": 1}))
    if a.loudness_lufs is not None and loudness is not None:
        pad = loudness_stage.normalize(g, pad, a.loudness_lufs, loudness)
    return pad
