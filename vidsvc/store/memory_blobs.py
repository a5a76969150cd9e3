"""MemoryBlobStore: blobs in a dict, the reference BlobStore and the test fake.

Re-exported by memory.py; imports only store.rules.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from vidsvc.store.rules import check_key


class MemoryBlobStore:
    """Blobs as bytes in a dict; same key rules as the disk store, no local paths or URLs."""

    def __init__(self) -> None:
        self._blobs: dict[str, tuple[bytes, str]] = {}

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        check_key(key)
        data = await asyncio.to_thread(path.read_bytes)
        self._blobs[key] = (data, content_type)

    async def get_file(self, key: str, dest: Path) -> None:
        if check_key(key) not in self._blobs:
            raise KeyError(key)
        await asyncio.to_thread(dest.write_bytes, self._blobs[key][0])

    async def copy(self, src_key: str, dst_key: str) -> None:
        check_key(dst_key)
        if check_key(src_key) not in self._blobs:
            raise KeyError(src_key)
        self._blobs[dst_key] = self._blobs[src_key]  # bytes are immutable: already independent

    async def exists(self, key: str) -> bool:
        return check_key(key) in self._blobs

    async def delete(self, key: str) -> None:
        self._blobs.pop(check_key(key), None)

    async def url(self, key: str, *, expires_s: int) -> str | None:
        check_key(key)
        return None

    def local_path(self, key: str) -> Path | None:
        check_key(key)
        return None

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
