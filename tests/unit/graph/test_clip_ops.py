"""graph.clip_ops without FFmpeg: which outputs, which filters, the input allow-lists."""

from __future__ import annotations

from typing import Any

import pytest

from vidsvc import cliptask, graph, spec
from vidsvc.errors import ValidationError
from vidsvc.graph import clip_ops
from vidsvc.schema import parse_clip_task

SOURCE = graph.Source(name="in0.mp4", duration_ms=4000, has_video=True, has_audio=True)
ENC = graph.Encoding(duration_ms=4000, preset="ultrafast", max_pixels=1000)


def command(*operations: str, source: graph.Source = SOURCE, **kw: Any) -> clip_ops.ClipCommand:
    task = cliptask.ClipTask(processing_id="p", clips=("x",), operations=operations, **kw)
    return clip_ops.compile_clip(clip_ops.build_clip(task, source), ENC)


def graph_text(cmd: clip_ops.ClipCommand) -> str:
    return cmd.argv[cmd.argv.index("-filter_complex") + 1]


def test_every_operation_in_one_command_with_the_input_allow_lists() -> None:
    cmd = command("normalize", "color_correct", "thumbnail", contact_sheet=True)
    assert cmd.files == {
        "normalized": "normalized.mp4",
        "thumbnail": "thumbnail.jpg",
        "contact_sheet": "contact_sheet.jpg",
    }
    argv = list(cmd.argv)
    assert argv.count("-i") == 1
    assert argv[argv.index("-protocol_whitelist") + 1] == "file"
    assert argv[argv.index("-max_pixels") + 1] == "1000"
    assert ",".join(spec.INPUT_FORMATS) in argv
    text = graph_text(cmd)
    assert "split=3" in text and "loudnorm=I=-16:TP=-1.5:LRA=11" in text
    assert "normalize=smoothing=30" in text  # `auto` colour
    assert "tile=layout=3x3" in text and "scale=w=640:h=-2" in text
    assert "+faststart" in argv


def test_a_named_preset_and_no_loudness_without_normalize() -> None:
    cmd = command("color_correct", color_preset="bw")
    assert cmd.files == {"color_corrected": "color_corrected.mp4"}
    text = graph_text(cmd)
    assert "hue=s=0" in text and "loudnorm" not in text and "split" not in text


def test_thumbnail_only_encodes_no_video() -> None:
    cmd = command("thumbnail", thumbnail_ms=2500)
    assert cmd.files == {"thumbnail": "thumbnail.jpg"}
    assert "libx264" not in cmd.argv and "0:a" not in graph_text(cmd)
    assert "trim=start_frame=75:end_frame=76" in graph_text(cmd)


def test_silence_for_a_clip_without_audio() -> None:
    mute = graph.Source(name="in0.mp4", duration_ms=2000, has_video=True, has_audio=False)
    text = graph_text(command("normalize", source=mute))
    assert "anullsrc=r=48000:cl=stereo" in text and "0:a" not in text


@pytest.mark.parametrize(
    ("wanted_ms", "duration_ms", "frame"),
    [(None, 4000, 30), (None, 1000, 15), (10_000, 2000, 59), (0, 2000, 0)],
)
def test_thumbnail_frame(wanted_ms: int | None, duration_ms: int, frame: int) -> None:
    task = cliptask.ClipTask(processing_id="p", clips=("x",), operations=("thumbnail",))
    if wanted_ms is not None:
        task = cliptask.ClipTask(
            processing_id="p", clips=("x",), operations=("thumbnail",), thumbnail_ms=wanted_ms
        )
    assert clip_ops.thumbnail_frame(task, duration_ms) == frame


def test_parse_clip_task_defaults_and_errors() -> None:
    task = parse_clip_task(
        {"processing_id": "a.b:c-1", "clips": ["s3://b/x.mp4"], "operations": ["thumbnail"]}
    )
    assert (task.color_preset, task.contact_sheet, task.thumbnail_ms) == ("auto", False, None)
    with pytest.raises(ValidationError) as caught:
        parse_clip_task({"processing_id": "p", "clips": ["x"], "operations": ["x"], "y": 1})
    assert caught.value.details["field"] in ("operations[0]", "y")
