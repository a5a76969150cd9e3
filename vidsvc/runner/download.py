"""http(s) inputs: resolve once, check every address, connect only there, stream to disk.

Split from inputs.py so that aiohttp is imported only when an http(s) input is staged.
Imports the leaves and vidsvc.runner; never vidsvc.http.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from vidsvc.config import Settings
from vidsvc.runner import addresses
from vidsvc.runner.inputs import ByteProgress, _refuse, _Source, _unavailable

_CHUNK = 256 * 1024


class PinnedResolver(AbstractResolver):
    """Answers aiohttp with addresses that were already checked: connect where we looked."""

    def __init__(self, answers: list[ResolveResult]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return self.answers

    async def close(self) -> None:
        return None


async def _pinned_answers(src: _Source, settings: Settings) -> list[ResolveResult]:
    try:
        answers = await addresses.resolve(src.host, src.port)
    except OSError:
        raise _unavailable(src.field, f"host {src.host} cannot be resolved") from None
    _, exact = addresses.host_rule(src.host, src.port, settings.allowed_url_hosts)
    if not exact and addresses.any_internal(answers):
        raise _refuse(src.field, f"{src.host} resolves to an internal address")
    return answers


async def _save(
    resp: aiohttp.ClientResponse,
    target: Path,
    settings: Settings,
    src: _Source,
    report: ByteProgress,
) -> None:
    if 300 <= resp.status < 400:
        raise _unavailable(src.field, f"HTTP {resp.status} redirect (redirects are not followed)")
    if resp.status >= 400:
        raise _unavailable(src.field, f"HTTP {resp.status} from {src.host}")
    total, done = resp.content_length, 0
    limit = settings.max_input_bytes
    if total is not None and total > limit:
        raise _refuse(src.field, f"too large (over {limit} bytes)")
    with target.open("wb") as out:
        async for chunk in resp.content.iter_chunked(_CHUNK):
            done += len(chunk)
            if done > limit:
                raise _refuse(src.field, f"too large (over {limit} bytes)")
            await asyncio.to_thread(out.write, chunk)  # a slow disk must not stall the loop
            report(done, total)
    report(done, done)


async def fetch(src: _Source, target: Path, settings: Settings, report: ByteProgress) -> None:
    timeout = settings.download_timeout
    try:
        async with asyncio.timeout(timeout):
            answers = await _pinned_answers(src, settings)
            # Literal IPs bypass resolvers in aiohttp; they were checked as literals.
            connector = aiohttp.TCPConnector(resolver=PinnedResolver(answers), use_dns_cache=False)
            unlimited = aiohttp.ClientTimeout(total=None)  # ours above is the one that counts
            async with (
                aiohttp.ClientSession(connector=connector, timeout=unlimited) as session,
                session.get(src.url, allow_redirects=False) as resp,
            ):
                await _save(resp, target, settings, src, report)
    except BaseException as exc:
        target.unlink(missing_ok=True)
        if isinstance(exc, TimeoutError):
            raise _unavailable(src.field, f"download timed out after {timeout:g} s") from None
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise _unavailable(src.field, f"cannot connect to {src.host}:{src.port}") from None
        if isinstance(exc, aiohttp.ClientError | OSError):
            raise _unavailable(src.field, f"download failed ({type(exc).__name__})") from None
        raise
