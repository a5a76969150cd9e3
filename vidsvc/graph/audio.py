"""The audio side of the graph: clip tracks, silence, music and voiceover beds, the final mix.

Everything is resampled to 48 kHz stereo float before it meets anything else; lengths are
counted in samples so the bed matches the video to the sample. The mix adds the tracks at their
own volumes (no amix normalization, which would quietly halve everything) and a limiter keeps
the sum below -1 dBFS instead of clipping.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping

from vidsvc import spec
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
    fade_in = slot.transition_ms if slot.transition == "fade" else 0
    return _fades(g, pad, samples, fade_in, slot.fade_out_ms)


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
    if a.voiceover_delay_ms:
        pad = g.chain(pad, ("adelay", {"delays": f"{a.voiceover_delay_ms}", "all": 1}))
    return g.chain(pad, ("apad", {"whole_len": samples}), ("atrim", {"end_sample": samples}))


def mix(
    g: GraphBuilder,
    bed: str,
    a: spec.Audio,
    total_ms: int,
    sources: Mapping[str, Source],
) -> str:
    """Clip audio + music + voiceover, summed and limited."""
    tracks = [bed]
    if a.music_url:
        tracks.append(_music(g, a, total_ms, sources[a.music_url]))
    if a.voiceover_url:
        tracks.append(_voiceover(g, a, total_ms, sources[a.voiceover_url]))
    pad = bed
    if len(tracks) > 1:
        pad = g.add_audio("amix", tracks, inputs=len(tracks), normalize=0, duration="first")
    return g.chain(pad, ("alimiter", {"limit": LIMIT, "level": 0, "latency": 1}))
