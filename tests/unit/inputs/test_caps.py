"""Byte caps held while staging: on the wire for http(s) and S3, by size for local files.

A real aiohttp server on 127.0.0.1 (tests/support/byte_server.py) counts the body bytes it
wrote before the client closed, so "the download stopped at the cap" is measured where the
bytes leave, not inferred from the client.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.byte_server import BOMB_BYTES, ByteServer, Sent, gzip_wire, in_flight, start
from tests.support.s3_server import S3Bucket
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.inputs.staging import stage
from vidsvc.work.compositions.captionfile import MAX_CAPTION_BYTES
from vidsvc.work.compositions.userfonts import MAX_FONT_BYTES

#: What may still leave the server after the client's last read (kernel and client buffers).
IN_FLIGHT = in_flight()
#: Streamed on the fly, far past any cap plus IN_FLIGHT: only stopping early refuses it.
HUGE = max(256 << 20, 4 * (MAX_FONT_BYTES + IN_FLIGHT))


@pytest.fixture
async def byte_server(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> ByteServer:
    return await start(aiohttp_server)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "job"
    path.mkdir()
    return path


def _settings(server: ByteServer, **kw: Any) -> Settings:
    return Settings(**{"allowed_url_hosts": (server.host,), "download_timeout": 20.0, **kw})


async def _refused(
    server: ByteServer, workdir: Path, path: str, field: str, **kw: Any
) -> InvalidClipFormat:
    url = server.url(path)
    settings = _settings(server, **kw.pop("settings", {}))
    with pytest.raises(InvalidClipFormat) as caught:
        await stage([url], workdir, settings, fields={url: field}, **kw)
    assert caught.value.details == {"field": field}
    assert list(workdir.iterdir()) == []  # no partial file left behind
    return caught.value


# -- http(s) ------------------------------------------------------------------------------------


async def test_a_chunked_captions_file_stops_at_the_caption_cap(
    byte_server: ByteServer, workdir: Path
) -> None:
    """(b) 256 MB or more with no Content-Length for captions.url: refused at 5 MB, not at
    2 GiB; what left the server is the cap plus what the buffers held, whatever the size."""
    error = await _refused(
        byte_server,
        workdir,
        f"/stream/{HUGE}/subs.srt",
        "captions.url",
        max_bytes=MAX_CAPTION_BYTES,
    )
    assert error.message == f"captions.url: too large (over {MAX_CAPTION_BYTES} bytes)"
    sent = await byte_server.finished()
    assert MAX_CAPTION_BYTES < sent.body_bytes <= MAX_CAPTION_BYTES + IN_FLIGHT, sent


async def test_a_content_length_over_the_cap_is_refused_before_the_body(
    byte_server: ByteServer, workdir: Path
) -> None:
    """(c) The /sized handler sends headers and never a body byte: a client that waited for the
    body would time out instead of being refused."""
    error = await _refused(
        byte_server,
        workdir,
        f"/sized/{MAX_FONT_BYTES + 1}/brand.ttf",
        "fonts[0].url",
        max_bytes=MAX_FONT_BYTES,
        settings={"download_timeout": 5.0},
    )
    assert error.message == f"fonts[0].url: too large (over {MAX_FONT_BYTES} bytes)"
    byte_server.release()  # only now may the handler end (it still writes no body)
    assert (await byte_server.finished()).body_bytes == 0


async def test_a_gzip_bomb_is_refused_and_never_inflated(
    byte_server: ByteServer, workdir: Path
) -> None:
    """(a) ~30 KB that gzip-inflate to 30 MB, sent with Content-Encoding: gzip although the
    request asked for identity: refused naming the field, nothing on disk."""
    assert len(gzip_wire()) < 40_000 and BOMB_BYTES == 30 * 1024 * 1024
    error = await _refused(
        byte_server, workdir, "/gzip/subs.vtt", "captions.url", max_bytes=MAX_CAPTION_BYTES
    )
    assert "Content-Encoding: gzip" in error.message and "uncompressed" in error.message
    sent = await byte_server.finished()
    assert sent.accept_encoding == "identity"


async def test_a_gzip_file_without_content_encoding_is_staged_as_its_wire_bytes(
    byte_server: ByteServer, workdir: Path
) -> None:
    """The same bomb served as a stored `.gz` file is saved byte for byte: never inflated."""
    url = byte_server.url("/gzfile/clip.mp4")
    staged = await stage([url], workdir, _settings(byte_server), max_bytes=MAX_CAPTION_BYTES)
    assert staged[url].stat().st_size == len(gzip_wire())
    assert staged[url].read_bytes() == gzip_wire()


async def test_the_smaller_of_the_kind_cap_and_max_input_bytes_wins(
    byte_server: ByteServer, workdir: Path
) -> None:
    error = await _refused(
        byte_server,
        workdir,
        "/stream/300000/subs.srt",
        "captions.url",
        max_bytes=MAX_CAPTION_BYTES,
        settings={"max_input_bytes": 100_000},
    )
    assert error.message == "captions.url: too large (over 100000 bytes)"
    assert (await byte_server.finished()).body_bytes <= 300_000


async def test_a_stream_up_to_the_cap_is_staged_whole(
    byte_server: ByteServer, workdir: Path
) -> None:
    url = byte_server.url("/stream/100000/subs.srt")
    staged = await stage([url], workdir, _settings(byte_server), max_bytes=100_000)
    assert staged[url].read_bytes() == b"-" * 100_000


# -- local files --------------------------------------------------------------------------------


async def test_a_local_file_over_the_kind_cap_is_refused_by_its_size(
    tmp_path: Path, workdir: Path
) -> None:
    with (tmp_path / "big.srt").open("wb") as f:
        f.truncate(MAX_CAPTION_BYTES + 1)  # sparse: nothing is written
    url = (tmp_path / "big.srt").as_uri()
    settings = Settings(allowed_local_dirs=(tmp_path,))
    with pytest.raises(InvalidClipFormat) as caught:
        await stage([url], workdir, settings, fields={url: "captions.url"}, max_bytes=5242880)
    assert caught.value.message == "captions.url: too large (over 5242880 bytes)"
    assert list(workdir.iterdir()) == []


# -- S3 -----------------------------------------------------------------------------------------


async def test_an_s3_object_over_the_kind_cap_is_refused(
    s3_bucket: S3Bucket, workdir: Path
) -> None:
    """(d) moto's server, an object over a small cap: refused by its Content-Length."""
    s3_bucket.put("subs.srt", os.urandom(6000))
    url = f"s3://{s3_bucket.name}/subs.srt"
    with pytest.raises(InvalidClipFormat) as caught:
        await stage(
            [url], workdir, s3_bucket.settings(), fields={url: "captions.url"}, max_bytes=5000
        )
    assert caught.value.message == "captions.url: too large (over 5000 bytes)"
    assert list(workdir.iterdir()) == []  # neither the file nor its .part


@pytest.fixture
async def chunked_s3(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> AsyncIterator[tuple[str, Sent]]:
    """An S3-compatible endpoint whose GetObject answers HUGE bytes chunked (no Content-Length, as
    some stores and proxies do): the running count is the only thing that can stop it."""
    sent = Sent("/", None)

    async def get_object(request: web.Request) -> web.StreamResponse:
        sent.accept_encoding = request.headers.get("Accept-Encoding")
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        resp.enable_chunked_encoding()
        try:
            await resp.prepare(request)
            while sent.body_bytes < HUGE:
                await resp.write(b"s" * 65536)
                sent.body_bytes += 65536
            await resp.write_eof()
        except ConnectionError:
            pass
        finally:
            sent.done.set()
        return resp

    app = web.Application()
    app.router.add_get("/{tail:.*}", get_object)
    server = await aiohttp_server(app, host="127.0.0.1")
    yield f"http://127.0.0.1:{server.port}", sent


async def test_an_s3_object_without_a_length_stops_at_the_cap(
    chunked_s3: tuple[str, Sent], workdir: Path
) -> None:
    """(d) The running count stops the body at the cap and the partial file is deleted."""
    endpoint, sent = chunked_s3
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "ALLOWED_S3_BUCKETS": "bkt",
    }
    url = "s3://bkt/brand.ttf"
    with pytest.raises(InvalidClipFormat) as caught:
        await stage(
            [url],
            workdir,
            Settings.from_env(env),
            fields={url: "fonts[0].url"},
            max_bytes=MAX_FONT_BYTES,
        )
    assert caught.value.message == f"fonts[0].url: too large (over {MAX_FONT_BYTES} bytes)"
    assert list(workdir.iterdir()) == []  # the partial .part file is gone too
    async with asyncio.timeout(10):
        await sent.done.wait()
    assert MAX_FONT_BYTES < sent.body_bytes <= MAX_FONT_BYTES + IN_FLIGHT, sent
