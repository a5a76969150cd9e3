"""A template checked as a composition when saved, its placeholders aside
(vidsvc/work/compositions/templates.py): what is the merge's to decide is set aside, every
other refusal is the template's, with the code and field a POST would give."""

from __future__ import annotations

from typing import Any

import pytest

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, InvalidTimeline, ValidationError, VidsvcError
from vidsvc.work.compositions.templates import check_template

SETTINGS = Settings.from_env({"ALLOWED_S3_BUCKETS": "bucket"})


def clip(**fields: Any) -> dict[str, Any]:
    return {"url": "s3://bucket/a.mp4", **fields}


@pytest.mark.parametrize(
    ("document", "names"),
    [
        ({"clips": [clip()]}, ()),
        ({"clips": [{"url": "{{CLIP}}"}]}, ("CLIP",)),
        ({"clips": [clip(trim_end="{{LEN}}", volume="{{VOL}}")], "output": {"fps": "{{FPS}}"}},
         ("LEN", "VOL", "FPS")),
        ({"clips": "{{CLIPS}}", "audio": "{{AUDIO}}", "fonts": "{{FONTS}}"},
         ("CLIPS", "AUDIO", "FONTS")),
        ({"clips": ["{{FIRST}}", clip()]}, ("FIRST",)),
        ({"clips": [clip(url="s3://bucket/{{SCENE}}.mp4", transition_in="{{T}}")]},
         ("SCENE", "T")),
        ({"clips": [clip()], "output": {"width": "{{W}}", "height": 720}}, ("W",)),
        ({"clips": [clip()], "color_preset": "{{LOOK}}", "user_id": "{{USER}}"},
         ("LOOK", "USER")),
        ({"clips": [clip(start_time=0, end_time=5, trim_start="{{TS}}", trim_end=2)]}, ("TS",)),
        ({"clips": [clip()], "overlays": [{"type": "text", "content": "Hi {{NAME}}",
                                           "style": {"color": "#{{HEX}}", "size": "{{SIZE}}"}}]},
         ("NAME", "HEX", "SIZE")),
    ],
)  # fmt: skip
def test_placeholders_where_values_go_pass(document: dict[str, Any], names: tuple[str]) -> None:
    assert check_template(document, SETTINGS) == names


def refusal(document: dict[str, Any]) -> VidsvcError:
    with pytest.raises(VidsvcError) as caught:
        check_template(document, SETTINGS)
    return caught.value


def test_a_template_without_placeholders_is_checked_as_a_composition() -> None:
    err = refusal({"clips": [clip(start_time=0, end_time=2, trim_start=0, trim_end=3)]})
    assert isinstance(err, InvalidTimeline)
    err = refusal({"clips": [clip()], "colour": "warm"})
    assert isinstance(err, ValidationError) and err.details["field"] == "colour"
    err = refusal({"clips": [clip(url="s3://elsewhere/a.mp4")]})
    assert isinstance(err, InvalidClipFormat) and err.details["field"] == "clips[0].url"


def test_shape_refusals_beside_placeholders_are_the_templates() -> None:
    err = refusal({"clips": [{"url": "{{CLIP}}", "transition_in": "spin", "volume": "{{V}}"}]})
    assert isinstance(err, ValidationError)
    assert err.details["field"] == "clips[0].transition_in"
    assert set(err.details["fields"]) == {"clips[0].transition_in"}  # the others set aside
    err = refusal({"clips": "{{CLIPS}}", "output": {"fps": 500}})  # missing clips set aside
    assert err.details["field"] == "output.fps"


def test_the_other_checks_run_past_a_placeholders_url() -> None:
    """The URL policy refuses "{{CLIP}}" (set aside) and still checks the music's URL."""
    document = {"clips": [{"url": "{{CLIP}}"}], "audio": {"music_url": "s3://other/m.mp3"}}
    err = refusal(document)
    assert isinstance(err, InvalidClipFormat) and err.details["field"] == "audio.music_url"


def test_a_timeline_refusal_is_the_first_that_is_not_about_a_placeholder() -> None:
    document = {
        "clips": [
            clip(start_time=0, end_time=5, trim_start="{{TS}}", trim_end=2),  # the merge's
            clip(start_time=5, end_time=6, trim_start=0, trim_end=3),  # the template's
        ]
    }
    err = refusal(document)
    assert isinstance(err, InvalidTimeline)
    assert err.details["field"].startswith("clips[1].")
    assert all(i["field"].startswith("clips[1]") for i in err.details["issues"])


def test_a_malformed_placeholder_is_refused_first() -> None:
    err = refusal({"clips": [clip(url="s3://bucket/{{scene}}.mp4")]})
    assert isinstance(err, ValidationError)
    assert err.details == {"field": "clips[0].url", "placeholder": "scene"}
