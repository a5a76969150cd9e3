"""Output formats through the service: WebM, GIF and WebP posted, rendered, stored and
downloaded with their own type and extension; the caps of an animated image refused at POST.

The real app and Runner (SQLite, local disk) and FFmpeg. What each file is, is read from its
bytes: VP9 + Opus (ffprobe), a GIF's width, rate, frames and NETSCAPE2.0 loop block, a WebP's
RIFF chunks (ANIM, ANMF: FFmpeg 5.1 cannot decode an animated WebP, so no ffprobe there).
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from tests.support.media import probe, stream, webp_chunks
from tests.support.real_app import App, clips, make_app

__all__ = ["clips", "make_app"]  # fixtures
pytestmark = pytest.mark.ffmpeg

MakeApp = Callable[..., Awaitable[App]]


def doc(clips: Path, **output: Any) -> dict[str, Any]:
    return {"clips": [{"url": (clips / "good.mp4").as_uri()}], "output": output}


async def rendered(app: App, document: dict[str, Any], into: Path) -> tuple[dict[str, Any], str]:
    """The completed composition and its downloaded file's content type."""
    status, created = await app.post(document)
    assert status == 202, created
    final = await app.finished(created["composition_id"])
    assert final["status"] == "completed", final["error"]
    resp = await app.client.get(URL(final["output_url"]).path_qs, allow_redirects=False)
    assert resp.status == 302
    location = resp.headers["Location"]
    file = await app.client.get(location)
    assert file.status == 200
    into.write_bytes(await file.read())
    return final, f"{URL(location).path.rsplit('.', 1)[-1]} {file.content_type}"


async def test_webm_is_vp9_and_opus(make_app: MakeApp, clips: Path, tmp_path: Path) -> None:
    app = await make_app()
    final, served = await rendered(app, doc(clips, resolution="180p", format="webm"),
                                   tmp_path / "out.webm")  # fmt: skip
    assert served == "webm video/webm"
    info = probe(tmp_path / "out.webm")
    assert stream(info, "video")["codec_name"] == "vp9"
    assert stream(info, "audio")["codec_name"] == "opus"
    assert final["outputs"][0]["format"] == "webm"


async def test_a_gif_is_480_wide_at_12_fps_without_sound_and_loops(
    make_app: MakeApp, clips: Path, tmp_path: Path
) -> None:
    app = await make_app()
    final, served = await rendered(app, doc(clips, format="gif"), tmp_path / "out.gif")
    assert served == "gif image/gif"
    info = probe(tmp_path / "out.gif")  # the test's ffprobe: every demuxer
    video = stream(info, "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("gif", 480, 270)
    # GIF times frames in centiseconds: 12 fps is 8 and 9 cs in turn, so count them instead
    assert int(video["nb_frames"]) == 12 and float(info["format"]["duration"]) == pytest.approx(
        1, abs=0.02
    )
    assert not [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert b"NETSCAPE2.0\x03\x01\x00\x00" in (tmp_path / "out.gif").read_bytes()  # forever
    meta = await (
        await app.client.get(URL(final["output_url"]).path.replace("/download", "/metadata"))
    ).json()
    assert meta["output"]["width"] == 480 and meta["output"]["audio"] is None


async def test_a_webp_is_animated_with_its_loop_count(
    make_app: MakeApp, clips: Path, tmp_path: Path
) -> None:
    app = await make_app()
    _, served = await rendered(app, doc(clips, format="webp", width=320, loop=2),
                               tmp_path / "out.webp")  # fmt: skip
    assert served == "webp image/webp"
    data = (tmp_path / "out.webp").read_bytes()
    chunks = webp_chunks(data)
    assert [kind for kind, _ in chunks[:2]] == [b"VP8X", b"ANIM"]
    assert struct.unpack("<H", chunks[1][1][4:6])[0] == 3  # two repeats: three plays
    frames = [payload for kind, payload in chunks if kind == b"ANMF"]
    # 1 s at 12 fps (libwebp merges a frame into the one before when they are the same)
    assert len(frames) > 5
    assert sum(int.from_bytes(f[12:15], "little") for f in frames) == pytest.approx(1000, abs=20)
    assert int.from_bytes(frames[0][6:9], "little") + 1 == 320  # the frame's width


@pytest.mark.parametrize(
    ("clip", "output", "field", "words"),
    [
        ({"duration": 100, "extend": "hold"}, {"format": "gif"}, "output.format",
         "ANIMATED_MAX_SECONDS"),
        ({"duration": 600, "extend": "hold"}, {"format": "gif"}, "output.format",
         "ANIMATED_MAX_SECONDS"),  # ten minutes: over MAX_DURATION_SECONDS too
        ({}, {"format": "webp", "width": 1920}, "output.width", "ANIMATED_MAX_SIDE"),
        ({}, {"format": "mp4", "loop": 1}, "output.loop", "gif, webp"),
        ({}, {"format": "webm", "preset": "fast"}, "output.preset", "x264"),
        ({}, {"format": "avi"}, "output.format", "Must be one of"),
    ],
)  # fmt: skip
async def test_what_a_format_cannot_do_is_refused_at_post(
    make_app: MakeApp, clips: Path, clip: dict[str, Any], output: dict[str, Any], field: str,
    words: str,
) -> None:  # fmt: skip
    app = await make_app()
    document = doc(clips, **output)
    document["clips"][0] |= clip
    status, body = await app.post(document)
    assert status == 400, body
    assert body["error"]["details"]["field"] == field, body
    assert words in body["error"]["message"]
    assert await app.row_count() == 0
