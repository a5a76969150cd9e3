"""A loudness target (audio.loudness_lufs): a measured gain, then a true-peak limiter.

Two passes, chosen by measurement over one-pass `loudnorm` (README, "Sound"): an audio-only
analysis pass runs this same mix into `ebur128` (`analysis()` builds it from the render's own
graph, so what is measured is exactly what is mixed); its integrated loudness comes back as
a `Measured` fact, like a probe, and the main pass adds `volume` by the difference and a limiter
run at 4x the rate, so inter-sample (true) peaks stay under TRUE_PEAK_CEILING, leaving room for
the AAC encoder's overshoot under the SPEC's -1 dBTP.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.compile import Encoding, input_args, render_filter
from vidsvc.graph.model import Filter, Graph
from vidsvc.graph.prune import sound_only

RATE = 48_000
OVERSAMPLE = 4  #: the limiter sees 192 kHz: peaks between 48 kHz samples are caught too
TRUE_PEAK_CEILING_DB = -1.5  #: the SPEC says <= -1 dBTP after encoding; AAC adds ~0.1-0.4 dB
SILENT_LUFS = -70.0  #: ebur128's gate: below this the mix has nothing to normalize
MAX_GAIN_DB = 40.0  #: never lift a near-silent mix into noise by more than this


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """The plain mix's loudness, from the analysis pass (a fact, like a probe)."""

    integrated_lufs: float
    true_peak_dbtp: float


def gain_db(target_lufs: float, measured: Measured) -> float:
    if measured.integrated_lufs <= SILENT_LUFS:
        return 0.0
    return min(MAX_GAIN_DB, target_lufs - measured.integrated_lufs)


def normalize(g: GraphBuilder, pad: str, target_lufs: float, measured: Measured) -> str:
    ceiling = 10 ** (TRUE_PEAK_CEILING_DB / 20)
    return g.chain(
        pad,
        ("volume", {"volume": f"{gain_db(target_lufs, measured):.2f}dB"}),
        ("aresample", {"sample_rate": RATE * OVERSAMPLE}),
        ("alimiter", {"limit": round(ceiling, 4), "level": 0, "attack": 1, "release": 50}),
        ("aresample", {"sample_rate": RATE}),
    )


def analysis(graph: Graph) -> Graph:
    """Only what feeds the audio output, ending in ebur128 (video pads are never decoded)."""
    sound = sound_only(graph)
    (audio,) = sound.outputs
    meter = Filter(
        name="ebur128",
        inputs=(audio,),
        outputs=("ameter",),
        args=(("peak", "true"), ("framelog", "verbose")),
    )
    pruned = replace(sound, filters=(*sound.filters, meter), outputs=("ameter",))
    pruned.check()
    return pruned


def analysis_argv(graph: Graph, enc: Encoding) -> tuple[str, ...]:
    """The analysis pass: the pruned graph to a null muxer; ebur128 logs its summary at info."""
    text = ";\n".join(render_filter(f) for f in graph.filters)
    return (
        "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        *input_args(graph, enc),
        "-filter_complex", text, "-map", f"[{graph.outputs[0]}]",
        "-t", f"{enc.duration_ms / 1000:.3f}", "-f", "null", "-",
    )  # fmt: skip


_INTEGRATED = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf) LUFS")
_TRUE_PEAK = re.compile(r"True peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf) dBFS")


def parse_summary(stderr: str) -> Measured | None:
    """ebur128's closing summary (the last one in the log), or None if it is missing."""
    integrated = _INTEGRATED.findall(stderr)
    peak = _TRUE_PEAK.findall(stderr)
    if not integrated or not peak:
        return None

    def number(text: str) -> float:
        return -200.0 if text == "-inf" else float(text)

    return Measured(integrated_lufs=number(integrated[-1]), true_peak_dbtp=number(peak[-1]))
