"""The wire format: shapes and types are VALIDATION_ERROR naming the field; values become ms."""

from __future__ import annotations

from typing import Any

import pytest

from vidsvc.errors import ValidationError
from vidsvc.schema import parse_composition


def refused(document: Any) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        parse_composition(document)
    assert err.value.code == "VALIDATION_ERROR"
    return err.value


def test_seconds_become_milliseconds_and_defaults_apply() -> None:
    comp = parse_composition(
        {
            "clips": [{"url": "a", "trim_start": 1.2345, "transition_in": "fade"}],
            "overlays": [
                {
                    "content": "hi",
                    "position": {"x": 10, "y": "bottom"},
                    "style": {"color": "#ff000080", "fade_out": 0.25},
                }
            ],
            "audio": {"music_url": "m", "music_fade_out": 2},
            "output": {"fps": 24},
        }
    )
    clip = comp.clips[0]
    assert (clip.trim_start_ms, clip.transition_ms, clip.volume) == (1234, 500, 1.0)
    overlay = comp.texts[0]
    assert (overlay.x, overlay.y, overlay.style.color) == (10, "bottom", "0xFF000080")
    assert overlay.style.fade_out_ms == 250
    assert comp.audio.music_fade_out_ms == 2000
    assert (comp.output.fps, comp.output.size, comp.output.crf) == (24, (1280, 720), None)
    inputs = [(i.url, i.field) for i in comp.inputs()]
    assert inputs == [("a", "clips[0].url"), ("m", "audio.music_url")]


@pytest.mark.parametrize("color", ["white", "WHITE", "#fff", "#FFFFFF", "#ffffffff", "ffffff"])
def test_colours(color: str) -> None:
    document = {"clips": [{"url": "a"}], "overlays": [{"content": "x", "style": {"color": color}}]}
    if color == "#fff":
        assert refused(document).details["field"] == "overlays[0].style.color"
    else:
        assert parse_composition(document).texts[0].style.color == "0xFFFFFFFF"
