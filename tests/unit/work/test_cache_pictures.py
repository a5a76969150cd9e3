"""Overlay files are inputs like clips: staged, probed, hashed, named by staged name in the key."""

from __future__ import annotations

import json

from vidsvc.schema import parse_composition
from vidsvc.work.compositions.cache import canonical_composition
from vidsvc.work.compositions.checks import url_fields


def test_overlay_urls_are_inputs_and_leave_the_cache_document() -> None:
    comp = parse_composition({**_doc(), "output": {"aspect_ratio": "9:16"}})
    fields = url_fields(comp)
    assert fields["https://cdn.example/logo.png?sig=1"] == "overlays[1].url"
    assert fields["s3://b/face.mp4"] == "overlays[2].url"
    names = {url: f"in{i}.bin" for i, url in enumerate(fields)}
    doc = canonical_composition(comp, names)
    text = json.dumps(doc, sort_keys=True)
    assert "example" not in text and "s3://" not in text  # staged names only
    assert doc["overlays"][1]["url"] == "in1.bin" and doc["overlays"][1]["width"] == 90
    assert doc["output"]["aspect_ratio"] == "9:16" and doc["clips"][0]["fit"] == "blur"
    other = parse_composition({**_doc(), "output": {"aspect_ratio": "1:1"}})
    assert canonical_composition(other, names) != doc


def _doc() -> dict[str, object]:
    return {
        "clips": [{"url": "s3://b/a.png", "duration": 2, "motion": "zoom_in", "fit": "blur"}],
        "overlays": [
            {"type": "text", "content": "hi"},
            {"type": "image", "url": "https://cdn.example/logo.png?sig=1", "width": 90},
            {"type": "video", "url": "s3://b/face.mp4", "volume": 0.5},
        ],
    }
