"""Snapshots of the full FFmpeg argv for every sample spec: the regression net for graph shape.

What the graphs *render* is checked on real outputs in tests/render; this pins the command.
Update deliberately with `pytest tests/unit/graph/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from vidsvc.graph import Encoding, FontFace, Heard, Limits, Source, build, compile_command, plan
from vidsvc.schema import parse_composition

#: Stills by extension here (the service asks probe), with the pipe demuxer probe would name.
STILLS = {".png": "png_pipe", ".jpg": "jpeg_pipe", ".webp": "webp_pipe"}
SPECS = sorted((Path(__file__).parents[3] / "sample_specs").glob("*.json"))


def test_there_are_at_least_five_sample_specs() -> None:
    assert len(SPECS) >= 5


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_compiled_argv(path: Path, snapshot: SnapshotAssertion) -> None:
    comp = parse_composition(json.loads(path.read_text(encoding="utf-8")))
    sources = {
        url: Source(
            name=f"in{i}{Path(url).suffix}",
            duration_ms=60_000,
            has_video=True,
            has_audio=not url.endswith("noaudio.mp4") and Path(url).suffix not in STILLS,
            still=Path(url).suffix in STILLS,
            demuxer=STILLS.get(Path(url).suffix),
        )
        for i, url in enumerate(dict.fromkeys(i.url for i in comp.inputs() if i.media))
    }
    durations = {u: s.duration_ms for u, s in sources.items() if not s.still}
    narrations = [c.voiceover_url for c in comp.clips if c.voiceover_url]
    heard = {u: Heard(duration_ms=3000 + 100 * k, audible_ms=2500 + 100 * k)
             for k, u in enumerate(narrations)}  # fmt: skip
    timeline = plan(comp, durations, Limits(), heard)
    fonts = {
        name: FontFace(path=f"/fonts/{name}.ttf", family=name, em_ratio=1.164)
        for name in comp.text_fonts()
    }
    encoding = Encoding(duration_ms=timeline.duration_ms)
    command = compile_command(build(timeline, comp, sources, fonts), encoding)
    assert {"argv": list(command.argv), "files": dict(command.files)} == snapshot
