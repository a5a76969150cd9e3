"""Group S (issue 22): each input kind's byte cap holds while it downloads, through the service.

A composition whose `captions.url` is a 50 MB stream with no Content-Length (made on the fly
by tests/support/byte_server.py on an allowed 127.0.0.1 port) fails INVALID_CLIP_FORMAT naming
`captions.url` and the 5 MB cap, and the server saw little more than the cap leave (the rest
of the 50 MB was never sent), where before it would have been downloaded up to 2 GiB. A gzip
bomb on the same field is refused without being inflated. ffprobe is the real one; the fake
FFmpeg proves that no render ran.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.support.byte_server import ByteServer, in_flight, start
from tests.support.real_app import App
from vidsvc.work.compositions.captionfile import MAX_CAPTION_BYTES

pytestmark = [pytest.mark.S, pytest.mark.ffmpeg]

#: What may leave the server past the cap: the socket buffers when the service stops reading.
IN_FLIGHT = in_flight()
#: 50 MB, or more on a host whose socket buffers could hold most of that.
STREAM = max(50 * 1024 * 1024, 2 * (MAX_CAPTION_BYTES + IN_FLIGHT))


@pytest.fixture
async def byte_server(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> ByteServer:
    return await start(aiohttp_server)


async def _failed_captions(
    make_app: Callable[..., Awaitable[App]], clips: Path, server: ByteServer, path: str
) -> dict[str, Any]:
    app = await make_app(fake="sleep:0.1", ALLOWED_URL_HOSTS=server.host)
    doc = {
        "clips": [{"url": (clips / "good.mp4").as_uri()}],
        "captions": {"url": server.url(path)},
    }
    status, created = await app.post(doc)
    assert status == 202, created
    body = await app.finished(created["composition_id"])
    assert body["status"] == "failed", body
    assert app.renders() == [] and app.blobs() == []
    error: dict[str, Any] = body["error"]
    assert error["code"] == "INVALID_CLIP_FORMAT", error
    assert error["details"] == {"field": "captions.url"}, error
    return error


async def test_a_50_mb_captions_stream_stops_at_the_caption_cap(
    make_app: Callable[..., Awaitable[App]], clips: Path, byte_server: ByteServer
) -> None:
    error = await _failed_captions(make_app, clips, byte_server, f"/stream/{STREAM}/subs.srt")
    assert error["message"] == f"captions.url: too large (over {MAX_CAPTION_BYTES} bytes)"
    sent = await byte_server.finished()
    # the cap, plus what the socket buffers held when the service stopped reading
    assert MAX_CAPTION_BYTES < sent.body_bytes <= MAX_CAPTION_BYTES + IN_FLIGHT < STREAM


async def test_a_gzip_bomb_for_captions_is_refused_uninflated(
    make_app: Callable[..., Awaitable[App]], clips: Path, byte_server: ByteServer
) -> None:
    error = await _failed_captions(make_app, clips, byte_server, "/gzip/subs.vtt")
    assert error["message"].startswith("captions.url: the server sent it compressed"), error
    assert (await byte_server.finished()).accept_encoding == "identity"
