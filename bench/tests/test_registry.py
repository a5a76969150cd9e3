"""The registry of measures: every one has a --quick mode, the README names exactly these, and
options resolve as documented (defaults, then --quick's, then the command line)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.__main__ import command, main, parser, select
from bench.harness import report
from bench.harness.measure import SHARED, Measure, Section
from bench.measures import MEASURES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_names_are_unique_and_each_needs_an_earlier_measure() -> None:
    names = [m.name for m in MEASURES]
    assert len(set(names)) == len(names)
    for i, m in enumerate(MEASURES):
        assert set(m.needs) <= set(names[:i]), m.name


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.name)
def test_every_measure_has_a_quick_mode(measure: Measure) -> None:
    """Its own smaller values, or (a measure that only compares) its needs' quick modes."""
    assert measure.quick or measure.needs
    assert set(measure.quick) <= set(measure.defaults)
    assert measure.question and measure.takes and measure.quick_note
    for key, value in measure.quick.items():
        assert type(value) is type(measure.defaults[key]), key
        assert value != measure.defaults[key], f"--quick leaves {key} as it is"


def test_the_readme_names_every_measure_and_no_other() -> None:
    """bench/README.md's table of measures: one row per registered measure, in order."""
    rows = re.findall(r"^\| `([a-z_]+)` \|", README.read_text(), flags=re.MULTILINE)
    assert rows == [m.name for m in MEASURES]


def test_options_come_from_defaults_then_quick_then_the_command_line() -> None:
    overhead = next(m for m in MEASURES if m.name == "overhead")
    full = overhead.options({}, quick=False)
    assert (full.integer("runs"), full.text("preset")) == (3, "medium")
    quick = overhead.options({}, quick=True)
    assert (quick.integer("runs"), quick.text("preset")) == (1, "ultrafast")
    given = {"runs": 5, "overhead_warmup": 2, "preset": None}
    mixed = overhead.options(given, quick=True)
    assert (mixed.integer("runs"), mixed.integer("warmup"), mixed.text("preset")) == (
        5,
        2,
        "ultrafast",
    )
    assert command(overhead, mixed, quick=True) == [
        "overhead", "--quick", "--runs", "5", "--overhead-warmup", "2"
    ]  # fmt: skip


def test_the_command_line_has_one_flag_per_option() -> None:
    flags = {a.dest for a in parser()._actions}
    for m in MEASURES:
        for key in m.defaults:
            assert (key if key in SHARED else f"{m.name}_{key}") in flags
    args = parser().parse_args(["memory", "--memory-clip-counts", "5", "10", "--quick"])
    assert args.measures == ["memory"] and args.memory_clip_counts == [5, 10] and args.quick


def test_asking_for_a_measure_runs_what_it_needs_first() -> None:
    assert [m.name for m in select(["estimator"])] == ["overhead", "concurrency", "estimator"]
    assert [m.name for m in select([])] == [m.name for m in MEASURES]
    with pytest.raises(SystemExit, match="unknown measure"):
        select(["render"])


def test_list_names_every_measure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    shown = capsys.readouterr().out
    assert all(f"{m.name}: {m.question}" in shown for m in MEASURES)


def test_a_section_goes_into_its_file_after_the_preamble(tmp_path: Path) -> None:
    first = ["- run: `python -m bench text`", ""]
    report.write(Section("text", "what?", ["one"]), tmp_path, first)
    report.write(Section("smart", "why?", ["two"]), tmp_path, first)
    report.write(Section("text", "what, again?", ["uno"]), tmp_path, first)
    text = (tmp_path / "results.md").read_text()
    assert text.startswith("# Benchmark results\n\nWritten by `python -m bench`")
    assert "## text: what, again?\n\n- run: `python -m bench text`\n\nuno\n\n## smart" in text
    assert text.count("## text") == 1 and text.endswith("## smart: why?\n\n- run: `python -m "
                                                        "bench text`\n\ntwo\n")  # fmt: skip
