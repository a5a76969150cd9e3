"""The audio side of the graph: clip tracks, the audio tracks and narrations, the final mix.

Everything is resampled to 48 kHz stereo float before it meets anything else (graph/pcm.py);
lengths are counted in samples so the bed matches the video to the sample. The mix adds the
tracks at their own volumes (no amix normalization, which would quietly halve everything) and
a limiter keeps the sum below -1 dBFS instead of clipping. Tracks and narrations are laid out
by graph/tracks.py; ducking (graph/ducking.py) lowers every music track under every voice; a
loudness target (graph/loudness.py) applies a gain measured on this same mix.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping

from vidsvc import spec
from vidsvc.graph import ducking, tracks
from vidsvc.graph import loudness as loudness_stage
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.model import Source
from vidsvc.graph.pcm import RATE, fades, normalized, silence
from vidsvc.graph.slots import ClipSlot, Timeline
from vidsvc.graph.window import Window

__all__ = ["LIMIT", "RATE", "clip_track", "mix", "silence"]

LIMIT = 0.891  # -1 dBFS


def clip_track(g: GraphBuilder, raw: str | None, slot: ClipSlot) -> str:
    """A clip's own audio (the `raw` pad, or silence) at its volume, exactly as long as the
    clip, with fades."""
    samples = slot.dur_ms * RATE // 1000
    if raw is None:
        pad = silence(g, samples)
    else:
        pad = g.chain(
            normalized(g, raw),
            ("apad", {"whole_len": samples}),
            ("atrim", {"end_sample": samples}),
        )
        if slot.volume != 1.0:
            pad = g.chain(pad, ("volume", {"volume": slot.volume}))
    return fades(g, pad, samples, slot.look.fade_in_ms, slot.look.fade_out_ms)


def _summed(g: GraphBuilder, pads: list[str]) -> str:
    if len(pads) == 1:
        return pads[0]
    return g.add_audio("amix", tuple(pads), inputs=len(pads), normalize=0, duration="first")


def mix(
    g: GraphBuilder,
    bed: str,
    a: spec.Audio,
    timeline: Timeline,
    sources: Mapping[str, Source],
    loudness: loudness_stage.Measured | None = None,
    window: Window | None = None,
) -> str:
    """Clip audio + every track + the narrations, summed and limited; with `loudness` (a
    measured fact of this same mix), brought to the composition's loudness target. With a
    `window`, `timeline` is the full one and `bed` the window's (graph/window.py)."""
    total = timeline.duration_ms
    cut = None
    if window is not None:
        timeline = window.timeline
        cut = (window.origin_ms, timeline.duration_ms)
    roles: dict[str, list[str]] = {role: [] for role in spec.TRACK_ROLES}
    for _, t in a.all_tracks():
        pad = tracks.track(g, t, total, sources[t.url], cut)
        if pad is not None:
            roles[t.role].append(pad)
    voices = [(s.start_ms + s.voice.delay_ms, s.voice) for s in timeline.clips if s.voice]
    spoken = tracks.narrations(g, voices, timeline.duration_ms, sources)
    if spoken is not None:
        roles["voice"].append(spoken)
    music, voice = roles["music"], roles["voice"]
    if music and voice and a.ducking:
        music_bus = _summed(g, music)
        voice_bus, key = g.add_many("asplit", (_summed(g, voice),), "aa", 2)
        music, voice = [ducking.duck(g, music_bus, key, a.ducking)], [voice_bus]
    pads = [bed, *music, *voice, *roles["sfx"]]
    pad = _summed(g, pads) if len(pads) > 1 else bed
    pad = g.chain(pad, ("alimiter", {"limit": LIMIT, "level": 0, "latency": 1}))
    if a.loudness_lufs is not None and loudness is not None:
        pad = loudness_stage.normalize(g, pad, a.loudness_lufs, loudness)
    return pad
