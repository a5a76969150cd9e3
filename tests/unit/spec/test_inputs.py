"""A composition's inputs: one enumeration (spec.Composition.inputs) that the URL checks, the
render cache, `vidsvc render` and `vidsvc submit` all agree with."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from vidsvc import spec
from vidsvc.__main__ import load_composition
from vidsvc.client.specfile import load_for_server
from vidsvc.schema import parse_composition

#: A request with every kind of input, twice where a list allows it.
EVERY_INPUT: dict[str, Any] = {
    "clips": [
        {"url": "/m/a.mp4", "voiceover_url": "/m/n0.wav"},
        {
            "url": "/m/b.png",
            "duration": "voiceover",
            "voiceover_url": "/m/n1.mp3",
            "grade": {"lut_url": "/m/b.cube", "lut_intensity": 0.5},
        },
        {"url": "/m/c.mp4", "grade": {"saturation": 0}},
    ],
    "overlays": [
        {"type": "text", "content": "/m/not-an-input.mp4"},
        {"type": "image", "url": "/m/logo.png"},
        {"type": "video", "url": "/m/pip.mp4"},
    ],
    "audio": {
        "music_url": "/m/music.mp3",
        "voiceover_url": "/m/vo.wav",
        "tracks": [{"url": "/m/bed.mp3", "role": "music"}, {"url": "/m/hit.wav", "role": "sfx"}],
    },
    "captions": {"url": "/m/subs.srt"},
    "fonts": [{"family": "A", "url": "/m/a.ttf"}, {"family": "B", "url": "/m/b.otf"}],
    "grade": {"lut_url": "/m/teal.cube"},
}
FIELDS = [
    ("clips[0].url", "clip"),
    ("clips[1].url", "clip"),
    ("clips[2].url", "clip"),
    ("overlays[1].url", "overlay"),
    ("overlays[2].url", "overlay"),
    ("clips[0].voiceover_url", "narration"),
    ("clips[1].voiceover_url", "narration"),
    ("audio.music_url", "music"),
    ("audio.voiceover_url", "voiceover"),
    ("audio.tracks[0].url", "track"),
    ("audio.tracks[1].url", "track"),
    ("captions.url", "captions"),
    ("fonts[0].url", "font"),
    ("fonts[1].url", "font"),
    ("grade.lut_url", "lut"),
    ("clips[1].grade.lut_url", "lut"),
]


def test_every_input_with_its_field_and_kind() -> None:
    comp = parse_composition(EVERY_INPUT)
    assert [(i.field, i.kind) for i in comp.inputs()] == FIELDS
    assert [i.url for i in comp.inputs() if i.media] == [
        "/m/a.mp4", "/m/b.png", "/m/c.mp4", "/m/logo.png", "/m/pip.mp4", "/m/n0.wav", "/m/n1.mp3",
        "/m/music.mp3", "/m/vo.wav", "/m/bed.mp3", "/m/hit.wav",
    ]  # fmt: skip


def test_with_urls_replaces_every_input_and_nothing_else() -> None:
    comp = parse_composition(EVERY_INPUT)
    moved = comp.with_urls(lambda i: f"x:{i.field}")
    assert [i.url for i in moved.inputs()] == [f"x:{field}" for field, _ in FIELDS]
    assert moved.with_urls(lambda i: comp.inputs()[FIELDS.index((i.field, i.kind))].url) == comp


def test_no_url_field_outside_the_enumeration() -> None:
    """Fails when a value gains a URL field (say a LUT's) that inputs() does not list: it would
    skip the URL policy, the cache's canonical form and the CLI's paths."""
    found = {
        f"{cls.__name__}.{f.name}"
        for cls in vars(spec).values()
        if isinstance(cls, type) and dataclasses.is_dataclass(cls)
        for f in dataclasses.fields(cls)
        if f.name == "url" or f.name.endswith("_url")
    }
    assert found == {
        "Clip.url", "ImageOverlay.url", "VideoOverlay.url", "Audio.music_url",
        "Audio.voiceover_url", "Captions.url", "FontSource.url", "Input.url",
        "Clip.voiceover_url", "Track.url", "Grade.lut_url",
    }  # fmt: skip


def test_the_client_rewrites_exactly_the_inputs(tmp_path: Path) -> None:
    """vidsvc.client may not import the server's values, so its rule (a `url` or `*_url` key)
    is held to the enumeration here."""
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(EVERY_INPUT))
    sent = parse_composition(load_for_server(path))
    assert [i.url for i in sent.inputs()] == [
        Path(i.url).as_uri() for i in parse_composition(EVERY_INPUT).inputs()
    ]
    assert sent.texts[0].text == "/m/not-an-input.mp4"


def test_vidsvc_render_resolves_every_relative_path(tmp_path: Path) -> None:
    relative = json.loads(json.dumps(EVERY_INPUT).replace('"/m/', '"media/'))
    path = tmp_path / "specs" / "spec.json"
    path.parent.mkdir()
    path.write_text(json.dumps(relative))
    comp = load_composition(path)
    base = (tmp_path / "specs" / "media").as_uri()
    assert [i.url.removeprefix(base) for i in comp.inputs()] == [
        "/" + Path(i.url).name for i in parse_composition(EVERY_INPUT).inputs()
    ]
    assert comp.texts[0].text == "media/not-an-input.mp4"  # text, left as written
