"""Placeholders (vidsvc/schema/placeholders.py) and a composition made from a template
(vidsvc/schema/templates.py): found, refused, filled by type, bounded, never substituted twice."""

from __future__ import annotations

import time
from typing import Any

import pytest

from vidsvc.errors import PayloadTooLarge, ValidationError
from vidsvc.schema import placeholders
from vidsvc.schema.templates import FromTemplate, merged, parse_from_template

TEMPLATE: dict[str, Any] = {
    "clips": [
        {"url": "{{CLIP_URL}}", "trim_end": "{{LENGTH}}"},
        {"url": "s3://b/{{SCENE}}.mp4", "transition_in": "crossfade"},
    ],
    "overlays": [{"type": "text", "content": "Hi {{NAME}}, {{NAME}}! {{COUNT}} left"}],
    "audio": "{{AUDIO}}",
    "fonts": "{{FONTS}}",
    "output": {"resolution": "720p", "fps": "{{FPS}}"},
}
KNOWN = ("CLIP_URL", "LENGTH", "SCENE", "NAME", "COUNT", "AUDIO", "FONTS", "FPS")
MERGE: dict[str, Any] = {
    "CLIP_URL": "s3://b/a.mp4",
    "LENGTH": 2.5,
    "SCENE": "beach",
    "NAME": "Ada",
    "COUNT": 3,
    "AUDIO": {"music_url": "s3://b/m.mp3", "music_volume": 0.5},
    "FONTS": [{"family": "Brand", "url": "s3://b/f.ttf"}],
    "FPS": 25,
}


def request(merge: dict[str, Any] | None = None, **overrides: Any) -> FromTemplate:
    return FromTemplate(template_id="tmpl_x", merge=MERGE if merge is None else merge,
                        overrides=overrides)  # fmt: skip


def make(template: dict[str, Any] = TEMPLATE, **kw: Any) -> dict[str, Any]:
    limit = kw.pop("limit", 1 << 20)
    return merged(template, placeholders.names(placeholders.find(template)), request(**kw),
                  limit=limit)  # fmt: skip


def test_find_names_each_field_and_the_names_in_order() -> None:
    slots = placeholders.find(TEMPLATE)
    assert [(s.field, s.names, s.whole) for s in slots] == [
        ("clips[0].url", ("CLIP_URL",), True),
        ("clips[0].trim_end", ("LENGTH",), True),
        ("clips[1].url", ("SCENE",), False),
        ("overlays[0].content", ("NAME", "NAME", "COUNT"), False),
        ("audio", ("AUDIO",), True),
        ("fonts", ("FONTS",), True),
        ("output.fps", ("FPS",), True),
    ]
    assert placeholders.names(slots) == KNOWN


@pytest.mark.parametrize(
    ("text", "shown"),
    [("{{name}}", "name"), ("a {{A-B}} b", "A-B"), ("{{ }}", " "), ("{{}}", ""),
     ("{{ NAME }}", " NAME "), ("{{1A}}", "1A"), ("{{Ä}}", "Ä"),
     ("{{" + "A" * 65 + "}}", "A" * 40 + "…")],
)  # fmt: skip
def test_odd_placeholder_names_are_refused_naming_the_field(text: str, shown: str) -> None:
    with pytest.raises(ValidationError) as caught:
        placeholders.find({"overlays": [{"type": "text", "content": "ok {{FINE}}"},
                                        {"type": "text", "content": text}]})  # fmt: skip
    assert caught.value.details == {"field": "overlays[1].content", "placeholder": shown}
    assert caught.value.message.startswith("overlays[1].content: {{")


def test_braces_that_are_not_placeholders_are_text() -> None:
    document = {"a": "{{ not closed", "b": "}} {x} {{{A}}}", "{{KEY}}": "keys are never read"}
    slots = placeholders.find(document)
    assert [(s.field, s.names, s.whole) for s in slots] == [("b", ("A",), False)]
    assert placeholders.fill(document, {"A": 1}) == {**document, "b": "}} {x} {1}"}


def test_a_merge_fills_each_placeholder_by_its_type() -> None:
    made = make()
    assert made["clips"][0] == {"url": "s3://b/a.mp4", "trim_end": 2.5}  # number stays number
    assert made["clips"][1]["url"] == "s3://b/beach.mp4"  # inline: the string
    assert made["overlays"][0]["content"] == "Hi Ada, Ada! 3 left"  # a number's JSON form
    assert made["audio"] == MERGE["AUDIO"]  # an object
    assert made["fonts"] == MERGE["FONTS"]  # a list
    assert made["output"] == {"resolution": "720p", "fps": 25}
    assert TEMPLATE["clips"][0]["url"] == "{{CLIP_URL}}"  # the template is not changed


def test_each_use_of_an_object_is_its_own_copy() -> None:
    twice = {"clips": [{"url": "{{U}}", "grade": "{{G}}"}, {"url": "{{U}}", "grade": "{{G}}"}]}
    made = make(twice, merge={"U": "s3://b/a.mp4", "G": {"contrast": 1.1}})
    assert made["clips"][0]["grade"] == made["clips"][1]["grade"]
    assert made["clips"][0]["grade"] is not made["clips"][1]["grade"]


def test_a_merged_value_is_never_substituted_again() -> None:
    merge = {**MERGE, "NAME": "{{COUNT}}", "CLIP_URL": "{{SCENE}}", "AUDIO": {"x": "{{FPS}}"}}
    made = make(merge=merge)
    assert made["overlays"][0]["content"] == "Hi {{COUNT}}, {{COUNT}}! 3 left"
    assert made["clips"][0]["url"] == "{{SCENE}}"
    assert made["audio"] == {"x": "{{FPS}}"}


def test_an_unfilled_placeholder_is_named_with_its_field() -> None:
    merge = {k: v for k, v in MERGE.items() if k != "SCENE"}
    with pytest.raises(ValidationError) as caught:
        make(merge=merge)
    assert caught.value.details == {"field": "clips[1].url", "placeholder": "SCENE"}
    assert caught.value.message == "clips[1].url: placeholder {{SCENE}} has no value in merge"


def test_a_merge_key_no_placeholder_uses_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        make(merge={**MERGE, "TYPO": 1})
    assert caught.value.details["field"] == "merge.TYPO"


def test_only_strings_and_numbers_go_inside_a_longer_string() -> None:
    for value in ({"a": 1}, [1], True, None):
        with pytest.raises(ValidationError) as caught:
            make(merge={**MERGE, "SCENE": value})
        assert caught.value.details["field"] == "merge.SCENE"
        assert "clips[1].url" in caught.value.message


def test_an_override_replaces_the_templates_field_and_its_placeholders() -> None:
    merge = {k: v for k, v in MERGE.items() if k != "FPS"}  # output's placeholder is gone
    made = make(merge=merge, output={"resolution": "360p", "fps": "{{FPS}}"}, user_id="u1")
    assert made["output"] == {"resolution": "360p", "fps": "{{FPS}}"}  # given, not scanned
    assert made["user_id"] == "u1"
    make(merge=MERGE, output={"resolution": "360p"})  # a merge for it is still accepted


def test_the_merged_composition_is_bounded_by_the_body_limit() -> None:
    template = {"overlays": [{"type": "text", "content": "{{X}}" * 1000}]}
    started = time.perf_counter()
    with pytest.raises(PayloadTooLarge):
        make(template, merge={"X": "y" * 100_000}, limit=1 << 20)  # 100 MB if built
    assert time.perf_counter() - started < 1  # refused before anything is built
    assert len(make(template, merge={"X": "y" * 1000})["overlays"][0]["content"]) == 1_000_000
    with pytest.raises(PayloadTooLarge):  # whole values and lists count too
        make({"fonts": ["{{F}}"] * 100}, merge={"F": {"url": "s3://b/" + "f" * 20_000}})


def test_the_fill_is_linear() -> None:
    """No backtracking: a megabyte of braces is scanned in one pass."""
    hostile = {"a": "{{" * 500_000, "b": "{{A" * 300_000, "c": "{{A}}" * 200_000}
    started = time.perf_counter()
    slots = placeholders.find(hostile)
    assert [s.field for s in slots] == ["c"]
    placeholders.fill(hostile, {"A": "x"})
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("body", "field"),
    [({"template_id": "t", "clips": []}, "clips"),
     ({"template_id": "t", "overlays": []}, "overlays"),
     ({"template_id": 5}, "template_id"),
     ({"template_id": "t", "merge": []}, "merge"),
     ({"template_id": "t", "output": {"fps": "x"}}, "output.fps")],
)  # fmt: skip
def test_a_request_by_template_takes_only_its_fields(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_from_template(body)
    assert caught.value.details["field"] == field


def test_a_request_by_template_is_parsed() -> None:
    asked = parse_from_template({"template_id": "tmpl_a", "merge": {"A": [1]}, "cache": False})
    assert asked == FromTemplate(template_id="tmpl_a", merge={"A": [1]},
                                 overrides={"cache": False})  # fmt: skip
