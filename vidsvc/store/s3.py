"""S3BlobStore: blobs in one S3 bucket, or an S3-compatible store (MinIO, moto), via aiobotocore.

One client per process: `await S3BlobStore.open(settings)` creates it, `aclose()` closes it.
AWS_S3_BUCKET is `bucket` or `bucket/key/prefix`; keys pass store.rules.check_key. Endpoint
trouble is StorageError, raised fast (store/s3_client.py). Files over 16 MiB go up in parts, a
few at a time; a multipart upload that fails is aborted, never left behind
(docs/reliability.md INV-4).
Downloads stream to a temp file beside the destination and are renamed into place.

fetch_object() (re-exported from s3_client) stages s3:// inputs with a short-lived client.
Imports only the leaves and store.{rules,s3_client}; never runner, graph or http.
"""

from __future__ import annotations

import asyncio
import logging
import re
import stat
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import ConfigError, StorageError
from vidsvc.store.rules import MAX_KEY_LENGTH, check_key
from vidsvc.store.s3_client import (
    DEFAULT_LIMITS,
    ObjectTooLarge,
    S3Limits,
    check_settings,
    download,
    fetch_object,
    new_client,
    storage_errors,
)

__all__ = ["ObjectTooLarge", "S3BlobStore", "S3Limits", "fetch_object", "split_bucket"]

log = logging.getLogger(__name__)

MULTIPART_THRESHOLD = 16 << 20  #: larger files go up in parts
PART_SIZE = 8 << 20  #: S3 wants ≥ 5 MiB per part (but the last) and ≤ 10 000 parts
PARALLEL_PARTS = 3
COPY_THRESHOLD = 5 << 30  #: CopyObject's limit; larger objects are copied in parts
COPY_PART_SIZE = 512 << 20
_MAX_PARTS = 10_000
_MAX_EXPIRY = 7 * 86400  #: SigV4's limit for presigned URLs
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def split_bucket(value: str) -> tuple[str, str]:
    """AWS_S3_BUCKET → (bucket, key prefix ending in "/" or empty); ConfigError if malformed."""
    bucket, _, prefix = value.strip().partition("/")
    prefix = prefix.strip("/")
    if not _BUCKET.match(bucket):
        raise ConfigError(f"AWS_S3_BUCKET={value!r}: expected a bucket name, then /prefix or not")
    if prefix:
        try:
            check_key(prefix)
        except ValueError as exc:
            raise ConfigError(f"AWS_S3_BUCKET={value!r}: bad key prefix ({exc})") from None
    return bucket, f"{prefix}/" if prefix else ""


def _source_size(path: Path) -> int:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise FileNotFoundError(f"no file to store at {path}")
    return info.st_size


def _read_range(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(size)


class S3BlobStore:
    """A BlobStore on S3; url() presigns a GET, local_path() is always None."""

    def __init__(
        self, client: Any, bucket: str, prefix: str, stack: AsyncExitStack, limits: S3Limits
    ) -> None:
        self._client, self._bucket, self._prefix = client, bucket, prefix
        self._stack, self._limits = stack, limits
        self._aborts: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, settings: Settings, *, limits: S3Limits = DEFAULT_LIMITS) -> S3BlobStore:
        """The one client of this process; ConfigError for malformed settings. No request is
        made (S3 may be down at start; ping() tells)."""
        bucket, prefix = split_bucket(settings.aws_s3_bucket)
        check_settings(settings)
        stack = AsyncExitStack()
        with storage_errors("client set-up"):
            client = await stack.enter_async_context(new_client(settings, limits))
        return cls(client, bucket, prefix, stack, limits)

    @property
    def bucket(self) -> str:
        return self._bucket

    def _name(self, key: str) -> str:
        """The object name for key: the prefix, then the checked key."""
        name = self._prefix + check_key(key)
        if len(name.encode()) > MAX_KEY_LENGTH:
            raise ValueError(f"blob key {key!r} is too long with the prefix {self._prefix!r}")
        return name

    async def _request(
        self, what: str, key: str, op: Any, *, timeout: float | None = None, **params: Any
    ) -> Any:
        with storage_errors(what, key):
            async with asyncio.timeout(timeout or self._limits.request_timeout):
                return await op(Bucket=self._bucket, **params)

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        name = self._name(key)
        size = await asyncio.to_thread(_source_size, path)
        if size > MULTIPART_THRESHOLD:
            await self._put_multipart(key, name, path, size, content_type)
            return
        data = await asyncio.to_thread(path.read_bytes)
        put = self._client.put_object
        await self._request("upload", key, put, Key=name, Body=data, ContentType=content_type)

    async def _put_multipart(
        self, key: str, name: str, path: Path, size: int, content_type: str
    ) -> None:
        start = self._client.create_multipart_upload
        created = await self._request("upload", key, start, Key=name, ContentType=content_type)
        upload_id = str(created["UploadId"])
        try:
            parts = await self._upload_parts(key, name, upload_id, path, size)
            await self._request(
                "upload",
                key,
                self._client.complete_multipart_upload,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            task = asyncio.ensure_future(self._abort(name, upload_id))
            self._aborts.add(task)  # aclose() waits for it, even if we are cancelled again
            task.add_done_callback(self._aborts.discard)
            await asyncio.shield(task)
            raise

    async def _upload_parts(
        self, key: str, name: str, upload_id: str, path: Path, size: int
    ) -> list[dict[str, Any]]:
        part_size = max(PART_SIZE, -(-size // _MAX_PARTS))
        gate = asyncio.Semaphore(PARALLEL_PARTS)

        async def part(number: int, offset: int) -> dict[str, Any]:
            async with gate:  # at most PARALLEL_PARTS parts in memory at once
                data = await asyncio.to_thread(_read_range, path, offset, part_size)
                resp = await self._request(
                    f"upload (part {number})",
                    key,
                    self._client.upload_part,
                    Key=name,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                )
                return {"PartNumber": number, "ETag": resp["ETag"]}

        offsets = range(0, size, part_size)
        tasks = [asyncio.ensure_future(part(n, off)) for n, off in enumerate(offsets, 1)]
        try:
            return list(await asyncio.gather(*tasks))
        finally:  # on a failure, no part may still be in flight when the upload is aborted
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _abort(self, name: str, upload_id: str) -> None:
        abort, limit = self._client.abort_multipart_upload, self._limits.abort_timeout
        try:
            await self._request("abort", name, abort, timeout=limit, Key=name, UploadId=upload_id)
        except KeyError:
            return  # NoSuchUpload: already gone
        except StorageError as exc:  # a bucket lifecycle rule should sweep what is left
            log.warning("multipart upload %s of %s not aborted: %s", upload_id, name, exc)

    async def copy(self, src_key: str, dst_key: str) -> None:
        """A server-side copy (CopyObject, or UploadPartCopy past its 5 GiB limit): no bytes pass
        through this process."""
        src, dst = self._name(src_key), self._name(dst_key)
        head = await self._request("copy", src_key, self._client.head_object, Key=src)
        source, size = {"Bucket": self._bucket, "Key": src}, int(head["ContentLength"])
        if src == dst:
            return  # S3 refuses a copy onto itself that changes nothing
        if size <= COPY_THRESHOLD:
            copy = self._client.copy_object
            await self._request("copy", src_key, copy, Key=dst, CopySource=source)
            return
        start = self._client.create_multipart_upload
        ctype = head.get("ContentType") or "application/octet-stream"
        created = await self._request("copy", dst_key, start, Key=dst, ContentType=ctype)
        upload_id = str(created["UploadId"])
        try:
            parts = [
                await self._copy_part(dst, upload_id, number, source, (first, size))
                for number, first in enumerate(range(0, size, COPY_PART_SIZE), 1)
            ]
            done, multipart = self._client.complete_multipart_upload, {"Parts": parts}
            await self._request(
                "copy", dst_key, done, Key=dst, UploadId=upload_id, MultipartUpload=multipart
            )
        except BaseException:
            task = asyncio.ensure_future(self._abort(dst, upload_id))
            self._aborts.add(task)  # as in _put_multipart
            task.add_done_callback(self._aborts.discard)
            await asyncio.shield(task)
            raise

    async def _copy_part(
        self, name: str, upload_id: str, number: int, source: dict[str, str], at: tuple[int, int]
    ) -> dict[str, Any]:
        first, size = at
        last = min(first + COPY_PART_SIZE, size) - 1
        resp = await self._request(
            f"copy (part {number})",
            name,
            self._client.upload_part_copy,
            Key=name,
            UploadId=upload_id,
            PartNumber=number,
            CopySource=source,
            CopySourceRange=f"bytes={first}-{last}",
        )
        return {"PartNumber": number, "ETag": resp["CopyPartResult"]["ETag"]}

    async def get_file(self, key: str, dest: Path) -> None:
        await download(self._client, self._bucket, self._name(key), dest, limits=self._limits)

    async def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            await self._request("lookup", key, self._client.head_object, Key=name)
        except KeyError:
            return False
        return True

    async def delete(self, key: str) -> None:
        name = self._name(key)
        try:
            await self._request("delete", key, self._client.delete_object, Key=name)
        except KeyError:
            return  # S3 says 204 for a missing key; some compatible stores say 404

    async def url(self, key: str, *, expires_s: int) -> str | None:
        """A presigned GET, valid expires_s seconds (1 to 7 days: SigV4's limit)."""
        params = {"Bucket": self._bucket, "Key": self._name(key)}
        expires = min(max(int(expires_s), 1), _MAX_EXPIRY)
        with storage_errors("presign", key):  # no credentials found, for one
            url = await self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires
            )
        return str(url)

    def local_path(self, key: str) -> Path | None:
        self._name(key)
        return None

    async def ping(self) -> None:
        with storage_errors("ping"):
            async with asyncio.timeout(self._limits.ping_timeout):
                await self._client.head_bucket(Bucket=self._bucket)

    async def aclose(self) -> None:
        """Wait for pending multipart aborts, then close the client and its connections."""
        if self._aborts:
            await asyncio.gather(*self._aborts, return_exceptions=True)
        await self._stack.aclose()
