"""A grade's filters (graph/grade.py) and where a clip's chain draws them (graph/segments.py):
which grade each clip gets, their order, and the LUT file's name and escaping."""

from __future__ import annotations

import re

from tests.support.graph_inputs import FONTS, sources
from vidsvc import graph, spec
from vidsvc.graph import grade, look
from vidsvc.graph.compile import Encoding
from vidsvc.schema import parse_composition


def test_a_neutral_grade_draws_nothing() -> None:
    assert grade.steps(None) == ()
    assert grade.steps(spec.Grade()) == ()
    assert grade.steps(spec.Grade(lut_url="sha256:ab", lut_intensity=0.0)) == ()


def test_the_steps_are_lut_then_eq_then_temperature() -> None:
    full = spec.Grade(
        lut_url="sha256:ab", lut_intensity=0.7, brightness=0.1, saturation=1.2, temperature=4000
    )
    assert grade.steps(full) == (
        ("lut3d", {"file": grade.lut_file("sha256:ab", 0.7), "interp": "tetrahedral"}),
        ("eq", {"brightness": 0.1, "saturation": 1.2}),  # contrast 1: left out
        ("colortemperature", {"temperature": 4000}),
    )


def test_the_lut_file_is_named_by_lut_and_intensity() -> None:
    name = grade.lut_file("sha256:ab", 0.7)
    assert re.fullmatch(r"luts/[0-9a-f]{24}\.cube", name)
    assert grade.lut_file("sha256:ab", 0.7) == name
    assert grade.lut_file("sha256:ab", 0.5) != name
    assert grade.lut_file("sha256:cd", 0.7) != name


def test_a_clip_grade_replaces_the_top_level_one_whole_and_null_ungrades() -> None:
    comp = parse_composition(
        {
            "clips": [
                {"url": "a.mp4"},
                {"url": "b.mp4", "grade": {"saturation": 0}},
                {"url": "c.mp4", "grade": None},
            ],
            "grade": {"lut_url": "file:///l.cube", "contrast": 1.2},
        }
    )
    first, second, third = (look.of(c, comp).grade for c in comp.clips)
    assert first == spec.Grade(lut_url="file:///l.cube", contrast=1.2)
    assert second == spec.Grade(saturation=0.0)  # no LUT, contrast 1: not merged
    assert third == spec.Grade()
    assert [i.field for i in comp.inputs() if i.kind == "lut"] == ["grade.lut_url"]


def chain_of(document: dict[str, object]) -> str:
    """The compiled filter graph of a one-source composition (a 1 s video at 180p)."""
    comp = parse_composition({"output": {"resolution": "180p", "fps": 10}, **document})
    timeline = graph.plan(comp, {c.url: 1000 for c in comp.clips}, graph.Limits())
    built = graph.build(timeline, comp, sources(*(c.url for c in comp.clips)), FONTS)
    command = graph.compile_command(built, Encoding(duration_ms=timeline.duration_ms))
    if "-filter_complex" in command.argv:
        return command.argv[command.argv.index("-filter_complex") + 1]
    return "".join(command.files.values())


def test_the_grade_sits_after_format_and_before_the_preset_and_fades() -> None:
    text = chain_of(
        {
            "clips": [{"url": "a.mp4", "transition_in": "fade", "color_preset": "warm"}],
            "grade": {"lut_url": "sha256:ab", "temperature": 3000},
        }
    )
    order = [text.index(f) for f in ("format=pix_fmts=yuv420p", "lut3d=", "colortemperature=",
                                     "lutyuv=", "fade=")]  # fmt: skip
    assert order == sorted(order)
    assert f"lut3d=file={grade.lut_file('sha256:ab', 1.0)}:interp=tetrahedral" in text
