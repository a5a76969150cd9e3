"""A clip's look: every spec.Clip field has an owner, and every look field reaches the look."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from vidsvc import spec
from vidsvc.graph import look
from vidsvc.graph.look import Look

#: For each field the look resolves, a value other than its default (and its default's effect).
CHANGED: dict[str, Any] = {
    "color_preset": "warm",
    "fit": "blur",
    "motion": "zoom_in",
    "motion_amount": 0.3,
    "grade": spec.Grade(saturation=0.0),
}


def test_every_clip_field_has_an_owner() -> None:
    """Fails when spec.Clip gains a field that look.CLIP_FIELDS does not place: a field that
    changes the pictures must be resolved into the look, or smart rendering copies frames
    that should have been changed."""
    fields = {f.name for f in dataclasses.fields(spec.Clip)}
    assert set(look.CLIP_FIELDS) == fields
    assert set(look.CLIP_FIELDS.values()) <= {"look", "placement", "sound", "captions"}


@pytest.mark.parametrize("name", [n for n, owner in look.CLIP_FIELDS.items() if owner == "look"])
def test_every_look_field_changes_the_look(name: str) -> None:
    comp = spec.Composition(clips=(spec.Clip(url="a.mp4"),))
    base = look.of(comp.clips[0], comp)
    changed = dataclasses.replace(comp.clips[0], **{name: CHANGED[name]})
    if name == "motion_amount":  # an amount moves only a clip that moves
        base = look.of(dataclasses.replace(changed, motion_amount=0.1, motion="zoom_in"), comp)
        changed = dataclasses.replace(changed, motion="zoom_in")
    assert look.of(changed, comp) != base


def test_defaults_come_from_the_composition() -> None:
    comp = spec.Composition(
        clips=(spec.Clip(url="a.mp4"), spec.Clip(url="b.mp4", fit="contain", color_preset="bw")),
        color_preset="cool",
        output=spec.Output(fit="blur"),
    )
    first, second = (look.of(c, comp) for c in comp.clips)
    assert (first.fit, first.color) == ("blur", "cool")
    assert (second.fit, second.color) == ("contain", "bw")


@pytest.mark.parametrize(
    ("changes", "untouched"),
    [
        ({}, True),
        ({"fit": "cover"}, True),
        ({"fade_in_ms": 500, "fade_out_ms": 300}, True),  # fades are spans the planner skips
        ({"motion": "zoom_in", "motion_amount": 0.0}, True),  # graph/motion.py draws it as is
        ({"fit": "blur"}, False),
        ({"motion": "pan_left"}, False),
        ({"color": "vivid"}, False),
        ({"grade": spec.Grade()}, True),  # every field neutral: nothing drawn
        ({"grade": spec.Grade(lut_url="sha256:ab", lut_intensity=0.0)}, True),
        ({"grade": spec.Grade(lut_url="sha256:ab")}, False),
        ({"grade": spec.Grade(contrast=1.05)}, False),
        ({"grade": spec.Grade(temperature=6500)}, False),
    ],
)
def test_untouched(changes: dict[str, Any], untouched: bool) -> None:
    assert dataclasses.replace(Look(fit="contain"), **changes).untouched is untouched
