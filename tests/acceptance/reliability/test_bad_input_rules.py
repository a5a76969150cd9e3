"""RELIABILITY.md group B (B1, B2, B8, B9) and S3 at the parser and in the timeline rules:
every refusal is a 4xx naming the field (see test_bad_input.py for the codes).
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from vidsvc.errors import InvalidTimeline, ValidationError
from vidsvc.graph.timeline import Limits, plan
from vidsvc.schema import parse_composition

pytestmark = pytest.mark.B
Client = TestClient[web.Request, web.Application]


# -- the real app (real Runner, SQLite, disk) --------------------------------------------------
# -- B1, B2, B8, S3 at the parser ----------------------


def shape_refused(document: Any) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        parse_composition(document)
    assert err.value.code == "VALIDATION_ERROR"
    return err.value


@pytest.mark.S
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
            {"clips": [{"url": "a"}], "overlays": [{"type": "sticker", "content": "x"}]},
            "overlays[0].type",
        ),
        (  # an image overlay needs a url (issue 12)
            {"clips": [{"url": "a"}], "overlays": [{"type": "image", "content": "x"}]},
            "overlays[0].url",
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
    """B1 (types, unknown keys, missing clips), B2 (negative, NaN, Infinity), B8 (output
    allowlist), S3 (font, colour, position, transition, size injections): VALIDATION_ERROR
    naming the field."""
    error = shape_refused(document)
    assert error.details["field"] == field, error.details
    assert error.message.startswith(f"{field}: ")


# -- B2, B9 in the timeline rules --------------------

TIMELINE_DURATIONS = {"a": 8000, "b": 5000, "c": 3000, "m": 20000, "v": 4000}


def timeline_refused(
    clips: list[dict[str, Any]], limits: Limits | None = None, **extra: Any
) -> str:
    with pytest.raises(InvalidTimeline) as err:
        plan(parse_composition({"clips": clips, **extra}), TIMELINE_DURATIONS, limits or Limits())
    assert err.value.code == "INVALID_TIMELINE"
    message = err.value.message
    assert message.startswith(err.value.details["field"] + ":")
    return message


@pytest.mark.parametrize(
    ("clips", "field", "words"),
    [
        ([{"url": "a", "trim_start": 2, "trim_end": 1}], "clips[0].trim_end", "after trim_start"),
        ([{"url": "a", "start_time": 2, "end_time": 1}], "clips[0].end_time", "after start_time"),
        ([{"url": "a", "trim_end": 9}], "clips[0].trim_end", "past the source's end (8 s)"),
        ([{"url": "a", "trim_start": 9}], "clips[0].trim_start", "past the source's end"),
        (
            [{"url": "a", "start_time": 0, "end_time": 2, "trim_start": 0, "trim_end": 3}],
            "clips[0].end_time",
            "differs from trim_end - trim_start",
        ),
        (
            [{"url": "a", "trim_end": 2}, {"url": "b", "start_time": 1}],
            "clips[1].start_time",
            "overlaps clips[0]",
        ),
        (
            [
                {"url": "a", "trim_end": 2},
                {"url": "b", "start_time": 1, "transition_in": "crossfade"},
            ],
            "clips[1].start_time",
            "must start 0.5 s before clips[0] ends, at 1.5",
        ),
        (
            [{"url": "a", "transition_in": "crossfade"}],
            "clips[0].transition_in",
            "first clip cannot use crossfade",
        ),
        (
            [
                {"url": "a", "trim_end": 1},
                {"url": "b", "transition_in": "crossfade", "transition_duration": 2},
            ],
            "clips[1].transition_duration",
            "longer than clips[0] (1 s)",
        ),
        (
            [
                {"url": "a", "trim_end": 3},
                {
                    "url": "b",
                    "trim_end": 1,
                    "transition_in": "crossfade",
                    "transition_duration": 2,
                },
            ],
            "clips[1].transition_duration",
            "longer than clips[1] (1 s)",
        ),
        (
            [
                {"url": "a", "trim_end": 3},
                {
                    "url": "b",
                    "trim_end": 1,
                    "transition_in": "crossfade",
                    "transition_duration": 0.6,
                },
                {
                    "url": "c",
                    "trim_end": 2,
                    "transition_in": "crossfade",
                    "transition_duration": 0.6,
                },
            ],
            "clips[1].transition_duration",
            "transitions into and out of clips[1]",
        ),
        (
            [{"url": "a", "transition_in": "fade", "transition_duration": 0}],
            "clips[0].transition_duration",
            "above 0",
        ),
    ],
)
def test_refusals_name_the_clip_and_field(
    clips: list[dict[str, Any]], field: str, words: str
) -> None:
    """B2: every timeline rule, INVALID_TIMELINE naming clip and field, including the
    probe-time one (trim_end past the source's end)."""
    message = timeline_refused(clips)
    assert message.startswith(f"{field}: "), message
    assert words in message


def test_total_over_the_maximum_is_refused() -> None:
    """B2, B6(b): a total over MAX_DURATION_SECONDS."""
    message = timeline_refused([{"url": "m"}], Limits(max_duration_ms=10_000))
    assert "over MAX_DURATION_SECONDS (10 s)" in message


@pytest.mark.parametrize(
    ("overlay", "field"),
    [
        ({"content": "x", "start_time": 3}, "overlays[0].start_time"),
        ({"content": "x", "start_time": 2, "duration": 5}, "overlays[0].duration"),
        ({"content": "x", "duration": 0}, "overlays[0].duration"),
        ({"content": "   "}, "overlays[0].content"),
        ({"content": "nul\x00byte"}, "overlays[0].content"),
        ({"content": "lone \ud800 surrogate"}, "overlays[0].content"),
        ({"content": "x" * 501}, "overlays[0].content"),
        (
            {"content": "x", "duration": 1, "style": {"fade_in": 0.6, "fade_out": 0.6}},
            "overlays[0].style.fade_in",
        ),
    ],
)
def test_overlay_refusals(overlay: dict[str, Any], field: str) -> None:
    """B2 (overlay start past the end, end before start), B9 (blank, NUL, lone surrogate,
    over MAX_TEXT_CHARS)."""
    assert timeline_refused([{"url": "c"}], overlays=[overlay]).startswith(field)
