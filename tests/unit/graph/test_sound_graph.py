"""The loudness analysis pass is the render's own audio graph, and nothing of its video."""

from __future__ import annotations

import json
from pathlib import Path

from vidsvc.graph import Encoding, Graph, Limits, Source, Timeline, build, plan
from vidsvc.graph.loudness import Measured, analysis, analysis_argv
from vidsvc.schema import parse_composition

SPEC = Path(__file__).parents[3] / "sample_specs" / "finished_sound.json"


def _built(measured: Measured | None = None) -> tuple[Graph, Timeline]:
    comp = parse_composition(json.loads(SPEC.read_text()))
    sources = {
        url: Source(name=f"in{i}{Path(url).suffix}", duration_ms=60_000, has_video=True,
                    has_audio=True)
        for i, url in enumerate(dict.fromkeys(i.url for i in comp.inputs() if i.media))
    }  # fmt: skip
    timeline = plan(comp, {u: s.duration_ms for u, s in sources.items()}, Limits())
    return build(timeline, comp, sources, {}, measured), timeline


def test_the_analysis_graph_is_audio_only_and_ends_in_ebur128() -> None:
    graph, timeline = _built()
    pruned = analysis(graph)
    assert {f.kind for f in pruned.filters} == {"a"}
    assert pruned.filters[-1].name == "ebur128"
    assert "sidechaincompress" in {f.name for f in pruned.filters}  # ducking is measured too
    main_audio = [f for f in graph.filters if f.kind == "a"]
    assert len(pruned.filters) == len(main_audio) + 1
    argv = analysis_argv(pruned, Encoding(duration_ms=timeline.duration_ms))
    assert argv[-3:] == ("-f", "null", "-")


def test_the_measured_gain_goes_into_the_main_pass() -> None:
    plain, _ = _built()
    target = -14.0
    measured = Measured(integrated_lufs=-20.5, true_peak_dbtp=-3.0)
    finished, _ = _built(measured)
    added = [f for f in finished.filters if f not in plain.filters]
    volume = [dict(f.args)["volume"] for f in added if f.name == "volume"]
    assert volume == [f"{target - measured.integrated_lufs:.2f}dB"]
    assert [f.name for f in added].count("alimiter") == 1
