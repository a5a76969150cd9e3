"""work/compositions/outputs.py: what a completed composition lists of its files."""

from __future__ import annotations

from vidsvc import spec
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.outputs import Keys, listed, public, recorded


def _link(rendition: int, file: str) -> str:
    return f"/download?rendition={rendition}&file={file}"


def test_every_rendition_is_listed_with_links_and_never_its_keys() -> None:
    shapes = (
        spec.Rendition(aspect_ratio="9:16"),
        spec.Rendition(aspect_ratio="1:1", resolution="360p"),
    )
    out = spec.Output(renditions=shapes)
    stored = recorded(out, [Keys("a.mp4", "a.jpg"), Keys("b.mp4", "b.jpg")], 3.0)
    shown = public(listed(CompositionOutcome(outputs=stored)), _link)
    assert shown is not None
    assert [(o["width"], o["height"]) for o in shown] == [(720, 1280), (360, 360)]
    assert shown[1]["output_url"] == "/download?rendition=1&file=video"
    assert not [k for o in shown for k in o if k.endswith("_key")]


def test_a_row_from_before_renditions_lists_its_one_output() -> None:
    old = CompositionOutcome.from_dict({"output": {"width": 640, "height": 360, "duration": 2.5}})
    shown = public(listed(old), _link)
    assert shown == [{"rendition": 0, "width": 640, "height": 360, "format": "mp4",
                      "duration": 2.5, "output_url": _link(0, "video"),
                      "thumbnail_url": _link(0, "thumbnail")}]  # fmt: skip
    assert listed(CompositionOutcome()) is None  # nothing rendered: nothing listed
    assert listed(CompositionOutcome.from_dict({"output": {"duration": 1.5}})) is None
