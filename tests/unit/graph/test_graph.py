"""Graph shape: the one-producer-one-consumer rule, kinds, labels, and compile details."""

from __future__ import annotations

import pytest

from tests.support.graph_inputs import FONTS, sources
from vidsvc.graph import (
    Encoding,
    GraphError,
    Limits,
    build,
    compile_command,
    plan,
)
from vidsvc.graph.builder import GraphBuilder, fmt
from vidsvc.graph.compile import MAX_INLINE_GRAPH
from vidsvc.graph.model import Filter, Graph, Input
from vidsvc.schema import parse_composition


def test_a_pad_consumed_twice_is_refused() -> None:
    g = Graph(
        inputs=(Input(path="in0.mp4"),),
        filters=(
            Filter(name="null", inputs=("0:v",), outputs=("v0",)),
            Filter(name="null", inputs=("v0",), outputs=("v1",)),
            Filter(name="null", inputs=("v0",), outputs=("v2",)),
        ),
        outputs=("v1", "v2"),
    )
    with pytest.raises(GraphError, match="v0 produced 1x, consumed 2x"):
        g.check()


def test_an_unconsumed_pad_and_an_unknown_input_are_refused() -> None:
    dangling = Graph(
        inputs=(Input(path="in0.mp4"),),
        filters=(Filter(name="split", inputs=("0:v",), outputs=("v0", "v1")),),
        outputs=("v0",),
    )
    with pytest.raises(GraphError, match="v1"):
        dangling.check()
    unknown = Graph(
        inputs=(),
        filters=(Filter(name="null", inputs=("3:v",), outputs=("v0",)),),
        outputs=("v0",),
    )
    with pytest.raises(GraphError, match="3:v"):
        unknown.check()


def test_audio_pads_cannot_feed_video_filters() -> None:
    g = GraphBuilder()
    g.input("in0.mp4")
    audio = g.add_audio("volume", ("0:a",), volume=2)
    video = g.add("fps", (audio,), fps=30)
    with pytest.raises(GraphError, match="feeds fps"):
        g.finish(video)


def test_number_formatting() -> None:
    assert [fmt(1), fmt(0.5), fmt(1 / 3), fmt(2.0), fmt(0.0)] == ["1", "0.5", "0.333333", "2", "0"]


def test_built_graphs_always_pass_the_check_and_labels_are_deterministic() -> None:
    comp = parse_composition(
        {
            "clips": [
                {"url": "a", "trim_end": 2, "transition_in": "fade"},
                {"url": "b", "trim_end": 2, "transition_in": "dissolve"},
                {"url": "a", "start_time": 5, "trim_end": 1},
            ],
            "overlays": [{"content": "x"}],
            "audio": {"music_url": "m", "voiceover_url": "v"},
        }
    )
    srcs = sources("a", "b", "m", "v")
    timeline = plan(comp, {u: s.duration_ms for u, s in srcs.items()}, Limits())
    first = compile_command(build(timeline, comp, srcs, FONTS), Encoding(duration_ms=6000))
    second = compile_command(build(timeline, comp, srcs, FONTS), Encoding(duration_ms=6000))
    assert first == second
    graph = first.argv[first.argv.index("-filter_complex") + 1]
    assert "xfade=transition=dissolve" in graph
    assert "color=c=black" in graph  # the gap from 3 s to 5 s
    assert list(first.files) == ["text.ass"]  # every text in one document
    assert first.files["text.ass"].count("Dialogue:") == 1
    assert "ass=filename=text.ass:fontsdir=fonts:shaping=complex" in graph
    assert first.links == {"fonts/f0.ttf": "/fonts/DejaVuSans.ttf"}


def test_inputs_are_locked_down_and_the_output_is_capped() -> None:
    comp = parse_composition({"clips": [{"url": "a", "trim_start": 1, "trim_end": 3}]})
    srcs = sources("a", audio=False)
    timeline = plan(comp, {"a": 4000}, Limits())
    argv = compile_command(build(timeline, comp, srcs, FONTS), Encoding(duration_ms=2000)).argv
    i = argv.index("-i")
    assert argv[i - 10 : i + 2] == (
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,ogg,mp3,wav,flac,aac,"
        "mpeg,asf,aiff,ac3,eac3,png_pipe,jpeg_pipe,webp_pipe",
        "-max_pixels",
        "8294400",
        "-ss",
        "1.000",
        "-t",
        "2.100",
        "-i",
        "in0.mp4",
    )
    assert argv[:8] == (
        "-hide_banner",
        "-nostdin",
        "-y",
        "-nostats",
        "-loglevel",
        "warning",
        "-progress",
        "pipe:1",
    )
    assert "2.000" == argv[argv.index("-t", i + 2) + 1]
    assert "anullsrc" in argv[argv.index("-filter_complex") + 1]  # no audio: silence


def test_huge_graphs_go_to_a_script_file() -> None:
    clips = [{"url": "a", "trim_end": 0.1}] * 200
    comp = parse_composition({"clips": clips, "overlays": [{"content": "x"}] * 100})
    srcs = sources("a")
    timeline = plan(comp, {"a": 4000}, Limits())
    command = compile_command(build(timeline, comp, srcs, FONTS), Encoding(duration_ms=20000))
    assert "-filter_complex_script" in command.argv
    assert len(command.files["graph.txt"]) > MAX_INLINE_GRAPH


def test_the_thumbnail_frame_exists_on_a_one_frame_timeline() -> None:
    # found by the property test: 0.1 s at 12 fps is one frame, whose "middle" rounded to frame 1
    comp = parse_composition(
        {"clips": [{"url": "a", "end_time": 0.1}], "output": {"resolution": "180p", "fps": 12}}
    )
    timeline = plan(comp, {"a": 2000}, Limits())
    graph = build(timeline, comp, sources("a"), {})
    trims = [
        dict(f.args) for f in graph.filters if f.name == "trim" and "start_frame" in dict(f.args)
    ]
    assert [t["start_frame"] for t in trims] == ["0"]
