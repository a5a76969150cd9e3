"""Renditions through the service: one POST, every shape stored, listed and downloadable.

The real app and Runner (SQLite, local disk) and FFmpeg: GET's `outputs`, each
`…/download?rendition=N` redirecting to a file of its own size with a thumbnail of its own
shape, a rendition that does not exist answered 404 naming it, a cache hit copying every
rendition, and the refusals at POST (five renditions, an unknown aspect ratio, 4K).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from tests.support.media import probe, stream
from tests.support.real_app import App, clips, make_app

__all__ = ["clips", "make_app"]  # fixtures
pytestmark = pytest.mark.ffmpeg

MakeApp = Callable[..., Awaitable[App]]
SHAPES = [
    {"aspect_ratio": "16:9"},
    {"aspect_ratio": "9:16", "fit": "cover"},
    {"aspect_ratio": "1:1", "resolution": "180p"},
]
SIZES = [(640, 360), (360, 640), (180, 180)]


def doc(clips: Path, **output: Any) -> dict[str, Any]:
    return {
        "clips": [{"url": (clips / "good.mp4").as_uri()}],
        "overlays": [{"type": "text", "content": "Every shape", "start_time": 0, "duration": 1}],
        "output": {"resolution": "360p", "fps": 10, "renditions": SHAPES, **output},
    }


async def fetched(app: App, url: str, into: Path) -> Path:
    route = URL(url)
    resp = await app.client.get(route.path_qs, allow_redirects=False)
    assert resp.status == 302, await resp.text()
    file = await app.client.get(resp.headers["Location"])
    assert file.status == 200
    into.write_bytes(await file.read())
    return into


async def test_one_post_stores_and_serves_every_rendition(
    make_app: MakeApp, clips: Path, tmp_path: Path
) -> None:
    app = await make_app()
    status, created = await app.post(doc(clips))
    assert status == 202, created
    final = await app.finished(created["composition_id"])
    assert final["status"] == "completed", final["error"]
    outputs = final["outputs"]
    assert [(o["rendition"], o["width"], o["height"]) for o in outputs] == [
        (n, w, h) for n, (w, h) in enumerate(SIZES)
    ]
    assert all(o["format"] == "mp4" and o["duration"] == pytest.approx(1.0, abs=0.1)
               for o in outputs)  # fmt: skip
    assert outputs[0]["output_url"] == final["output_url"]
    for n, (w, h) in enumerate(SIZES):
        video = await fetched(app, outputs[n]["output_url"], tmp_path / f"r{n}.mp4")
        info = probe(video)
        assert (stream(info, "video")["width"], stream(info, "video")["height"]) == (w, h)
        assert stream(info, "audio")["codec_name"] == "aac"  # one mix, in every file
        thumb = await fetched(app, outputs[n]["thumbnail_url"], tmp_path / f"r{n}.jpg")
        shape = stream(probe(thumb), "video")
        assert shape["width"] * h == shape["height"] * w  # the thumbnail has its shape

    job = created["composition_id"]
    missing = await app.client.get(f"/api/v1/compositions/{job}/download?rendition=7")
    body = await missing.json()
    assert missing.status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert "rendition 7" in body["error"]["message"] and "has 3" in body["error"]["message"]

    again_status, again = await app.post(doc(clips))  # the same job: a cache hit
    assert again_status == 202
    hit = await app.finished(again["composition_id"])
    meta = await (
        await app.client.get(f"/api/v1/compositions/{hit['composition_id']}/metadata")
    ).json()
    assert meta["cache"]["hit"] is True
    assert [o["width"] for o in meta["outputs"]] == [w for w, _ in SIZES]
    assert not [k for o in meta["outputs"] for k in o if k.endswith("_key")]  # never the keys
    copy = await fetched(app, hit["outputs"][1]["output_url"], tmp_path / "hit.mp4")
    assert copy.read_bytes() == (tmp_path / "r1.mp4").read_bytes()


@pytest.mark.parametrize(
    ("output", "field"),
    [
        ({"renditions": [{"aspect_ratio": "1:1"}] * 5}, "output.renditions"),
        ({"renditions": [{"aspect_ratio": "2:1"}]}, "output.renditions[0].aspect_ratio"),
        ({"renditions": [{"aspect_ratio": "9:16", "resolution": "2160p"}]},
         "output.renditions[0].resolution"),
        ({"renditions": [{"aspect_ratio": "9:16"}], "width": 640, "height": 360}, "output.width"),
    ],
)  # fmt: skip
async def test_bad_renditions_are_refused_naming_the_field(
    make_app: MakeApp, clips: Path, output: dict[str, Any], field: str
) -> None:
    app = await make_app()
    document = doc(clips)
    document["output"] = {"resolution": "360p", **output}
    status, body = await app.post(document)
    assert status == 400, body
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]["field"] == field, body
    assert await app.row_count() == 0
