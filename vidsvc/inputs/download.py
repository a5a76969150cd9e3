"""http(s) inputs: resolve once, check every address, connect only there, stream to disk.

The byte cap (staging.stage's, at most MAX_INPUT_BYTES) holds on the wire: a Content-Length
over it is refused before the body is read, and the running count stops the download at the
cap (the partial file is deleted), so a server can never make us store more than the cap.

No transparent decompression: the request says `Accept-Encoding: identity` and aiohttp is told
not to inflate (`auto_decompress=False`), so a 30 KB gzip body can never become 30 MB on disk
or in memory. A response that comes back with any other `Content-Encoding` anyway is refused
(INVALID_CLIP_FORMAT naming the field) before its body is read, not saved as-is: FFmpeg,
the caption parser and the font check cannot read a gzip-wrapped file, so saving it would only
fail later with a less clear message, and inflating it ourselves would be a second cap to keep.

Its own module so that aiohttp is imported only when an http(s) input is staged.
Imports the leaves, source.py and network.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from aiohttp.abc import ResolveResult

from vidsvc.config import Settings
from vidsvc.errors import InputUnavailable, InvalidClipFormat
from vidsvc.inputs import network
from vidsvc.inputs.source import ByteProgress, Source, too_large

_CHUNK = 256 * 1024
#: Sent with every request: the bytes as stored, never a compressed form of them.
HEADERS = {"Accept-Encoding": "identity"}


async def _pinned_answers(src: Source, settings: Settings) -> list[ResolveResult]:
    try:
        return await network.resolve_checked(src.host, src.port, settings.allowed_url_hosts)
    except OSError:
        raise InputUnavailable.at(src.field, f"host {src.host} cannot be resolved") from None
    except network.Refused as exc:
        raise InvalidClipFormat.at(src.field, str(exc)) from None


def _check_encoding(resp: aiohttp.ClientResponse, src: Source) -> None:
    encoding = resp.headers.get(aiohttp.hdrs.CONTENT_ENCODING, "").strip().lower()
    if encoding not in ("", "identity"):
        raise InvalidClipFormat.at(
            src.field,
            f"the server sent it compressed (Content-Encoding: {encoding[:40]}) although asked"
            " for identity; serve the file uncompressed",
        )


async def _save(
    resp: aiohttp.ClientResponse, target: Path, src: Source, max_bytes: int, report: ByteProgress
) -> None:
    if 300 <= resp.status < 400:
        raise InputUnavailable.at(
            src.field, f"HTTP {resp.status} redirect (redirects are not followed)"
        )
    if resp.status >= 400:
        raise InputUnavailable.at(src.field, f"HTTP {resp.status} from {src.host}")
    _check_encoding(resp, src)
    total, done = resp.content_length, 0
    if total is not None and total > max_bytes:
        raise too_large(src, max_bytes)  # before a byte of the body is read
    with target.open("wb") as out:
        async for chunk in resp.content.iter_chunked(_CHUNK):
            done += len(chunk)
            if done > max_bytes:  # chunked, with no Content-Length: stop at the cap
                raise too_large(src, max_bytes)
            await asyncio.to_thread(out.write, chunk)  # a slow disk must not stall the loop
            report(done, total)
    report(done, done)


async def fetch(
    src: Source, target: Path, settings: Settings, report: ByteProgress, *, max_bytes: int
) -> None:
    """Stream src to target, at most max_bytes of it; target is deleted on any failure."""
    timeout = settings.download_timeout
    try:
        async with asyncio.timeout(timeout):
            answers = await _pinned_answers(src, settings)
            # Literal IPs bypass resolvers in aiohttp; they were checked as literals.
            connector = aiohttp.TCPConnector(
                resolver=network.PinnedResolver(answers), use_dns_cache=False
            )
            unlimited = aiohttp.ClientTimeout(total=None)  # ours above is the one that counts
            async with (
                aiohttp.ClientSession(
                    connector=connector, timeout=unlimited, auto_decompress=False
                ) as session,
                session.get(src.url, allow_redirects=False, headers=HEADERS) as resp,
            ):
                await _save(resp, target, src, max_bytes, report)
    except BaseException as exc:
        target.unlink(missing_ok=True)
        if isinstance(exc, TimeoutError):
            raise InputUnavailable.at(
                src.field, f"download timed out after {timeout:g} s"
            ) from None
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise InputUnavailable.at(
                src.field, f"cannot connect to {src.host}:{src.port}"
            ) from None
        if isinstance(exc, aiohttp.ClientError | OSError):
            raise InputUnavailable.at(
                src.field, f"download failed ({type(exc).__name__})"
            ) from None
        raise
