"""Per-character table for both escaping levels, and a round trip through FFmpeg's own parser."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vidsvc.graph.escape import escape_graph, escape_option, filter_args

OPTION_TABLE = [
    ("\\", "\\\\"),
    ("'", "\\'"),
    (":", "\\:"),
    ("[", "["),
    ("]", "]"),
    (",", ","),
    (";", ";"),
    ("=", "="),
    ("%", "%"),
    ("{", "{"),
    (" ", " "),
    ("a", "a"),
    ("é", "é"),
]
GRAPH_TABLE = [
    ("\\", "\\\\"),
    ("'", "\\'"),
    ("[", "\\["),
    ("]", "\\]"),
    (",", "\\,"),
    (";", "\\;"),
    (":", ":"),
    ("=", "="),
    ("%", "%"),
    (" ", " "),
    ("a", "a"),
]


@pytest.mark.parametrize(("char", "escaped"), OPTION_TABLE)
def test_option_level(char: str, escaped: str) -> None:
    assert escape_option(char) == escaped


@pytest.mark.parametrize(("char", "escaped"), GRAPH_TABLE)
def test_graph_level(char: str, escaped: str) -> None:
    assert escape_graph(char) == escaped


def test_filter_args_applies_both_levels_in_order() -> None:
    args = (("enable", "between(t,1,2)"), ("fontfile", "/f/a:b's.ttf"), ("", "x"))
    assert filter_args(args) == ("enable=between(t\\,1\\,2):fontfile=/f/a\\\\:b\\\\\\'s.ttf:x")


@pytest.mark.ffmpeg
@pytest.mark.parametrize("value", ["a:b", "it's", "x[1],y;z", "back\\slash", "%{pts}", "é ü"])
def test_ffmpeg_reads_back_the_exact_value(tmp_path: Path, value: str) -> None:
    """FFmpeg's parser recovers the value: a missing textfile is echoed back in the error."""
    graph = f"color=s=16x16:d=0.1,drawtext={filter_args((('textfile', value),))}"
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-f", "lavfi", "-i", graph, "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert f"'{value}'" in proc.stderr, proc.stderr[-500:]
