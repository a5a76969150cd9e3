"""S3 plumbing shared by S3BlobStore (store/s3.py) and s3:// inputs: a client from Settings,
error translation, and a streamed, atomic GetObject.

Errors: a 404 is KeyError; endpoint trouble (refused, timeouts, 5xx, bad credentials) is
StorageError, raised fast: short connect and read timeouts, three attempts with botocore's
jittered backoff, and an overall deadline per request (a stalled Expect: 100-continue too).
Imports only the leaves and store.rules; never runner, graph or http.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from vidsvc.config import Settings
from vidsvc.errors import ConfigError, StorageError
from vidsvc.store.rules import check_key

CHUNK = 1 << 20  #: downloads are written in chunks of about this size

ByteProgress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class S3Limits:
    """Timeouts (seconds) and attempts of every S3 request."""

    connect_timeout: float = 2.0
    read_timeout: float = 20.0  #: per socket read, headers and body alike
    attempts: int = 3  #: in total, with botocore's jittered backoff (≤ 1 s, then ≤ 2 s)
    request_timeout: float = 120.0  #: overall, per request (one part, one small object)
    ping_timeout: float = 5.0
    abort_timeout: float = 10.0  #: aborting a failed multipart upload (aclose() waits for it)


DEFAULT_LIMITS = S3Limits()


class ObjectTooLarge(Exception):
    """fetch_object(): the object is over max_bytes (nothing is left at dest)."""


def check_settings(settings: Settings) -> None:
    url = settings.aws_endpoint_url
    if url and not re.match(r"^https?://[^/\s]+/?$", url):
        raise ConfigError(f"AWS_ENDPOINT_URL={url!r}: expected http(s)://host[:port]")
    if bool(settings.aws_access_key_id) != bool(settings.aws_secret_access_key):
        raise ConfigError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set together or not")


def _config(settings: Settings, limits: S3Limits) -> AioConfig:
    return AioConfig(
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        retries={"total_max_attempts": limits.attempts, "mode": "standard"},
        signature_version="s3v4",
        # MinIO and moto behind a plain host:port want path-style URLs.
        s3={"addressing_style": "path" if settings.aws_endpoint_url else "auto"},
        # S3-compatible stores do not all know the newer CRC checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def new_client(settings: Settings, limits: S3Limits) -> Any:
    """An async context manager giving an aiobotocore S3 client (credentials from settings,
    or botocore's default chain when they are empty)."""
    return get_session().create_client(
        "s3",
        region_name=settings.aws_region or None,
        endpoint_url=settings.aws_endpoint_url or None,
        aws_access_key_id=settings.aws_access_key_id or None,
        aws_secret_access_key=settings.aws_secret_access_key or None,
        config=_config(settings, limits),
    )


def _translate(exc: ClientError, what: str, key: str, *, inputs: bool) -> Exception:
    """A 404 is KeyError (for inputs a missing bucket too); a 403 on an input PermissionError;
    anything else is the store being unavailable or misconfigured: StorageError."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if status == 404 and (inputs or code != "NoSuchBucket"):
        return KeyError(key)
    if inputs and status == 403:
        return PermissionError(f"access denied ({code or status})")
    return StorageError(f"S3 {what} failed: {code or 'HTTP'} {status}".rstrip(" 0"))


@contextmanager
def storage_errors(what: str, key: str = "", *, inputs: bool = False) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        raise _translate(exc, what, key, inputs=inputs) from exc
    except (BotoCoreError, aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
        raise StorageError(f"S3 {what} failed: {type(exc).__name__}") from exc


async def _write_body(
    body: Any, tmp: Path, total: int | None, max_bytes: int | None, report: ByteProgress
) -> int:
    done, buf = 0, bytearray()
    with await asyncio.to_thread(tmp.open, "wb") as out:
        while chunk := await body.read(CHUNK):
            done += len(chunk)
            if max_bytes is not None and done > max_bytes:
                raise ObjectTooLarge(f"over {max_bytes} bytes")
            buf += chunk
            if len(buf) >= CHUNK:
                await asyncio.to_thread(out.write, buf)  # a slow disk must not stall the loop
                buf = bytearray()
                report(done, total)
        await asyncio.to_thread(out.write, buf)
    report(done, done)
    return done


async def download(
    client: Any,
    bucket: str,
    name: str,
    dest: Path,
    *,
    limits: S3Limits,
    inputs: bool = False,
    max_bytes: int | None = None,
    report: ByteProgress = lambda done, total: None,
) -> int:
    """GetObject streamed into dest through a temp file beside it; returns the byte count."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.part")
    try:
        with storage_errors("download", name, inputs=inputs):
            async with asyncio.timeout(limits.request_timeout):  # until the headers arrive
                resp = await client.get_object(Bucket=bucket, Key=name)
            async with resp["Body"] as body:
                size = resp.get("ContentLength")
                if max_bytes is not None and size is not None and size > max_bytes:
                    raise ObjectTooLarge(f"{size} bytes, over {max_bytes}")
                done = await _write_body(body, tmp, size, max_bytes, report)
        await asyncio.to_thread(os.replace, tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return done


async def fetch_object(
    settings: Settings,
    bucket: str,
    key: str,
    dest: Path,
    *,
    max_bytes: int,
    on_bytes: ByteProgress,
    limits: S3Limits = DEFAULT_LIMITS,
) -> int:
    """Download s3://bucket/key (key taken literally) to dest; returns its size.

    KeyError: no such key or bucket. PermissionError: 403. ObjectTooLarge: over max_bytes.
    StorageError: the endpoint is unreachable, slow or failing. dest appears only when whole.
    """
    check_key(key)
    try:
        check_settings(settings)  # open() checks them at start when S3 also stores the blobs
    except ConfigError as exc:
        raise StorageError(f"S3 is misconfigured: {exc}") from None
    with storage_errors("download", key, inputs=True):  # creating the client may fail too
        async with new_client(settings, limits) as client:
            return await download(
                client,
                bucket,
                key,
                dest,
                limits=limits,
                inputs=True,
                max_bytes=max_bytes,
                report=on_bytes,
            )
