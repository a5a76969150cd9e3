"""http(s) inputs: resolve once, check every address, connect only there, stream to disk.

Its own module so that aiohttp is imported only when an http(s) input is staged.
Imports the leaves, sources.py and network.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from aiohttp.abc import ResolveResult

from vidsvc.config import Settings
from vidsvc.errors import InputUnavailable, InvalidClipFormat
from vidsvc.inputs import network
from vidsvc.inputs.source import ByteProgress, Source

_CHUNK = 256 * 1024


async def _pinned_answers(src: Source, settings: Settings) -> list[ResolveResult]:
    try:
        return await network.resolve_checked(src.host, src.port, settings.allowed_url_hosts)
    except OSError:
        raise InputUnavailable.at(src.field, f"host {src.host} cannot be resolved") from None
    except network.Refused as exc:
        raise InvalidClipFormat.at(src.field, str(exc)) from None


async def _save(
    resp: aiohttp.ClientResponse,
    target: Path,
    settings: Settings,
    src: Source,
    report: ByteProgress,
) -> None:
    if 300 <= resp.status < 400:
        raise InputUnavailable.at(
            src.field, f"HTTP {resp.status} redirect (redirects are not followed)"
        )
    if resp.status >= 400:
        raise InputUnavailable.at(src.field, f"HTTP {resp.status} from {src.host}")
    total, done = resp.content_length, 0
    limit = settings.max_input_bytes
    if total is not None and total > limit:
        raise InvalidClipFormat.at(src.field, f"too large (over {limit} bytes)")
    with target.open("wb") as out:
        async for chunk in resp.content.iter_chunked(_CHUNK):
            done += len(chunk)
            if done > limit:
                raise InvalidClipFormat.at(src.field, f"too large (over {limit} bytes)")
            await asyncio.to_thread(out.write, chunk)  # a slow disk must not stall the loop
            report(done, total)
    report(done, done)


async def fetch(src: Source, target: Path, settings: Settings, report: ByteProgress) -> None:
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
                aiohttp.ClientSession(connector=connector, timeout=unlimited) as session,
                session.get(src.url, allow_redirects=False) as resp,
            ):
                await _save(resp, target, settings, src, report)
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
