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
    overlay = comp.overlays[0]
    assert (overlay.x, overlay.y, overlay.style.color) == (10, "bottom", "0xFF000080")
    assert overlay.style.fade_out_ms == 250
    assert comp.audio.music_fade_out_ms == 2000
    assert (comp.output.fps, comp.output.size, comp.output.crf) == (24, (1280, 720), None)
    assert comp.sources() == ("a", "m")


@pytest.mark.parametrize("color", ["white", "WHITE", "#fff", "#FFFFFF", "#ffffffff", "ffffff"])
def test_colours(color: str) -> None:
    document = {"clips": [{"url": "a"}], "overlays": [{"content": "x", "style": {"color": color}}]}
    if color == "#fff":
        assert refused(document).details["field"] == "overlays[0].style.color"
    else:
        assert parse_composition(document).overlays[0].style.color == "0xFFFFFFFF"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "body"),
        ({}, "clips"),
        ({"clips": "a"}, "clips"),
        ({"clips": [{}]}, "clips[0].url"),
        ({"clips": [{"url": "a", "trim_start": "abc"}]}, "clips[0].trim_start"),
        ({"clips": [{"url": "a", "trim_start": -1}]}, "clips[0].trim_start"),
        ({"clips": [{"url": "a", "trim_start": float("nan")}]}, "clips[0].trim_start"),
        ({"clips": [{"url": "a", "trim_end": float("inf")}]}, "clips[0].trim_end"),
        (
            {"clips": [{"url": "a", "transition_in": "fade,movie=/etc/passwd"}]},
            "clips[0].transition_in",
        ),
        ({"clips": [{"url": "a", "color_preset": "sepia"}]}, "clips[0].color_preset"),
        ({"clips": [{"url": "a"}], "bogus": 1}, "bogus"),
        (
            {
                "clips": [{"url": "a"}],
                "overlays": [{"content": "x", "style": {"font": "DejaVu',drawtext=text=OWNED"}}],
            },
            "overlays[0].style.font",
        ),
        (
            {
                "clips": [{"url": "a"}],
                "overlays": [{"content": "x", "style": {"color": "white:textfile=/etc/passwd"}}],
            },
            "overlays[0].style.color",
        ),
        (
            {
                "clips": [{"url": "a"}],
                "overlays": [{"content": "x", "position": {"x": "(w-tw)/2:textfile=/etc/passwd"}}],
            },
            "overlays[0].position.x",
        ),
        (
            {"clips": [{"url": "a"}], "overlays": [{"content": "x", "style": {"size": "24;"}}]},
            "overlays[0].style.size",
        ),
        (
            {"clips": [{"url": "a"}], "overlays": [{"content": "x", "style": {"size": 24.5}}]},
            "overlays[0].style.size",
        ),
        (
            {"clips": [{"url": "a"}], "overlays": [{"type": "image", "content": "x"}]},
            "overlays[0].type",
        ),
        ({"clips": [{"url": "a"}], "output": {"resolution": "8k"}}, "output.resolution"),
        ({"clips": [{"url": "a"}], "output": {"fps": 10000}}, "output.fps"),
        ({"clips": [{"url": "a"}], "output": {"crf": -1}}, "output.crf"),
        ({"clips": [{"url": "a"}], "output": {"preset": "placebo"}}, "output.preset"),
        ({"clips": [{"url": "a"}], "output": {"format": "hls"}}, "output.format"),
        ({"clips": [{"url": "a"}], "output": {"codec": "libx264 -y /etc/x"}}, "output.codec"),
        ({"clips": [{"url": "a"}], "audio": {"music_volume": "loud"}}, "audio.music_volume"),
    ],
)
def test_refusals_name_the_field(document: Any, field: str) -> None:
    error = refused(document)
    assert error.details["field"] == field, error.details
    assert error.message.startswith(f"{field}: ")
