"""The audio side's common ground: 48 kHz stereo float, silence, an input's sound from time 0,
fades counted in samples. audio.py (clips and the mix) and tracks.py (tracks, narrations)
build on it.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from vidsvc.graph.builder import Arg, GraphBuilder

RATE = 48_000
FORMAT: tuple[str, dict[str, Arg]] = (
    "aformat",
    {"sample_fmts": "fltp", "sample_rates": RATE, "channel_layouts": "stereo"},
)


def silence(g: GraphBuilder, samples: int) -> str:
    pad = g.add_audio("anullsrc", (), r=RATE, cl="stereo")
    return g.chain(pad, ("atrim", {"end_sample": samples}), FORMAT)


def normalized(g: GraphBuilder, pad: str) -> str:
    """An input's sound (`pad`) from time 0, at 48 kHz stereo float."""
    return g.chain(
        pad,
        ("asetpts", {"expr": "PTS-STARTPTS"}),
        ("aresample", {"sample_rate": RATE}),
        FORMAT,
    )


def fades(g: GraphBuilder, pad: str, samples: int, in_ms: int, out_ms: int) -> str:
    """Fade in over the first in_ms and out over the last out_ms of a track `samples` long."""
    if in_ms:
        pad = g.chain(pad, ("afade", {"t": "in", "ss": 0, "ns": in_ms * RATE // 1000}))
    if out_ms:
        fade = out_ms * RATE // 1000
        pad = g.chain(pad, ("afade", {"t": "out", "ss": samples - fade, "ns": fade}))
    return pad
