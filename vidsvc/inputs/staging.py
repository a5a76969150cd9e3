"""Staging: each accepted input URL becomes a local file, by its scheme's stager.

FFmpeg only ever reads files that the service staged itself, under names it chose
(`in0.mp4`, `in1.mp3`, ...), so no user text reaches its argv (docs/reliability.md B3, S4, S10).
http(s) hosts are resolved once, every address is checked, and the connection goes to
those checked addresses (no DNS rebinding); redirects are never followed (A2.7).

Byte caps are enforced while staging, never after: each call's cap is the smaller of
MAX_INPUT_BYTES and the caller's `max_bytes` (captions 5 MB, fonts 20 MB), checked on a local
file's size, on a download's Content-Length before its body and on its running count (the
download stops at the cap and its partial file is deleted), and likewise on an S3 object.

download.py and vidsvc.store.s3 are imported lazily: only inputs of their scheme pay for them.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from vidsvc.config import Settings
from vidsvc.errors import InputUnavailable, InvalidClipFormat, StorageError
from vidsvc.inputs.policy import allowed_dir, checked
from vidsvc.inputs.source import ByteProgress, Source, too_large

MEDIA_EXTENSIONS = frozenset(
    ".mp4 .m4v .mov .m4a .3gp .mkv .webm .avi .ts .mts .flv .ogg .oga .ogv .opus"
    " .mp3 .wav .flac .aac"
    # no image extensions: an image staged as `.bin` is found by its content (a pipe demuxer),
    # never by a name that would select image2 (which expands `%d` and globs)
    " .mpg .mpeg .vob .wmv .asf .aif .aiff .ac3 .eac3".split()
)
MAX_PARALLEL_DOWNLOADS = 4


class _Meter:
    """Adds up bytes over every input for one on_bytes(done, total) callback."""

    def __init__(self, count: int, on_bytes: ByteProgress | None) -> None:
        self.done = [0] * count
        self.total: list[int | None] = [None] * count
        self.on_bytes = on_bytes

    def part(self, index: int) -> ByteProgress:
        def report(done: int, total: int | None) -> None:
            self.done[index], self.total[index] = done, total
            if self.on_bytes is not None:
                totals = [t for t in self.total if t is not None]
                known = len(totals) == len(self.total)
                self.on_bytes(sum(self.done), sum(totals) if known else None)

        return report


async def _stage_file(
    src: Source, target: Path, settings: Settings, max_bytes: int, report: ByteProgress
) -> None:
    assert src.path is not None
    real = Path(os.path.realpath(src.path))  # again: the link may have moved since the check
    if not allowed_dir(real, settings):
        raise InvalidClipFormat.at(
            src.field, "the file is not under a directory in ALLOWED_LOCAL_DIRS"
        )
    try:
        info = real.stat()
    except OSError as exc:
        raise InputUnavailable.at(src.field, f"the file cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidClipFormat.at(src.field, "not a regular file")
    if info.st_size > max_bytes:
        raise too_large(src, max_bytes)
    target.symlink_to(real)
    report(info.st_size, info.st_size)


async def _stage_http(
    src: Source, target: Path, settings: Settings, max_bytes: int, report: ByteProgress
) -> None:
    # aiohttp costs ~80 ms to import: only renders with http(s) inputs pay for it.
    from vidsvc.inputs import download

    await download.fetch(src, target, settings, report, max_bytes=max_bytes)


def _s3_configured(settings: Settings) -> bool:
    """Whether S3 is set up at all; otherwise botocore would go looking for credentials."""
    return bool(settings.aws_s3_bucket or settings.aws_endpoint_url or settings.aws_access_key_id)


async def _stage_s3(
    src: Source, target: Path, settings: Settings, max_bytes: int, report: ByteProgress
) -> None:
    """GetObject, streamed to target with the size cap; the key is taken literally (no %-decoding).
    A missing or forbidden object is INPUT_UNAVAILABLE; S3 itself failing is STORAGE_ERROR."""
    if not _s3_configured(settings):
        raise StorageError(
            "s3 inputs need S3 configured (AWS_S3_BUCKET, AWS_ENDPOINT_URL or AWS_ACCESS_KEY_ID)"
        )
    from vidsvc.store import s3  # aiobotocore costs ~150 ms to import: only s3 inputs pay it

    bucket = urlsplit(src.url).netloc
    key = src.url[len(f"s3://{bucket}/") :]  # as _check_s3 read it
    timeout = settings.download_timeout
    try:
        async with asyncio.timeout(timeout):
            await s3.fetch_object(
                settings, bucket, key, target, max_bytes=max_bytes, on_bytes=report
            )
    except TimeoutError:
        raise InputUnavailable.at(src.field, f"download timed out after {timeout:g} s") from None
    except KeyError:
        raise InputUnavailable.at(
            src.field, f"no object {key[:200]!r} in bucket {bucket}"
        ) from None
    except PermissionError:
        raise InputUnavailable.at(src.field, f"access denied by bucket {bucket}") from None
    except s3.ObjectTooLarge:
        raise too_large(src, max_bytes) from None


#: (source, target, settings, max_bytes, report): stage one input, at most max_bytes of it.
Stager = Callable[[Source, Path, Settings, int, ByteProgress], Coroutine[Any, Any, None]]
_STAGERS: dict[str, Stager] = {
    "file": _stage_file,
    "http": _stage_http,
    "https": _stage_http,
    "s3": _stage_s3,
}


def _extension(url: str) -> str:
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()
    return suffix if suffix in MEDIA_EXTENSIONS else ".bin"


async def _first_error(coros: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run all; on the first failure cancel the rest and raise it (no ExceptionGroup)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        if tasks:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def stage(
    urls: Sequence[str],
    workdir: Path,
    settings: Settings,
    *,
    on_bytes: ByteProgress | None = None,
    fields: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
) -> dict[str, Path]:
    """Make each distinct URL a local file `workdir/in<N><ext>`; returns url -> path.

    `fields` names each URL in errors (e.g. "clips[1].url"); by default "inputs[N]".
    `max_bytes` caps each input of this call (the kind's own cap); MAX_INPUT_BYTES still
    applies, and the smaller wins. An input over it is INVALID_CLIP_FORMAT naming its field.
    """
    cap = (
        settings.max_input_bytes if max_bytes is None else min(max_bytes, settings.max_input_bytes)
    )
    distinct = list(dict.fromkeys(urls))
    sources = [
        checked(url, settings, (fields or {}).get(url, f"inputs[{i}]"))
        for i, url in enumerate(distinct)
    ]  # every URL is checked before anything is fetched
    targets = {url: workdir / f"in{i}{_extension(url)}" for i, url in enumerate(distinct)}
    meter, gate = _Meter(len(distinct), on_bytes), asyncio.Semaphore(MAX_PARALLEL_DOWNLOADS)

    async def one(index: int, src: Source) -> None:
        async with gate:
            await _STAGERS[src.scheme](src, targets[src.url], settings, cap, meter.part(index))

    await _first_error([one(i, src) for i, src in enumerate(sources)])
    return targets
