"""LocalBlobStore: blobs as files under one root directory (`DATA_DIR/blobs` by default).

Owns the mapping key → path and its confinement: a key passes the lexical rules of store.rules,
and its resolved path (symlinks followed) must stay under the resolved root
(docs/reliability.md S10).
Writes are atomic: a temp file in the target's directory, fsync, then os.replace. File I/O runs
in worker threads. Imports only vidsvc.errors and store.rules; never runner, graph or http.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from vidsvc.errors import StorageError
from vidsvc.store.rules import check_key

TEMP_SUFFIX = ".part"  # temp files are ".<name>.<random>.part" beside their target


class LocalBlobStore:
    """A BlobStore on the local file system; url() is None, so the app serves the bytes."""

    def __init__(self, root: Path) -> None:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"blob directory {root} cannot be created: {exc}") from exc
        self._root = root.resolve()

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        """The resolved file for key; ValueError when key is malformed or escapes the root."""
        check_key(key)
        try:
            path = self._root.joinpath(*key.split("/")).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise ValueError(f"blob key {key!r} cannot be resolved: {exc}") from None
        self._confine(path, key)
        return path

    def _confine(self, path: Path, key: str) -> None:
        if path == self._root or not path.is_relative_to(self._root):
            raise ValueError(f"blob key {key!r} resolves outside the blob directory")

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        target = self._path(key)
        if not await asyncio.to_thread(path.is_file):
            raise FileNotFoundError(f"no file to store at {path}")
        try:
            await asyncio.to_thread(self._write, key, target, path)
        except OSError as exc:
            raise StorageError(f"cannot store blob {key!r}: {exc}") from exc

    def _write(self, key: str, target: Path, source: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Again after mkdir: a symlink planted since _path() must not redirect the write.
        self._confine(target.parent.resolve() / target.name, key)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent
        )
        tmp = Path(name)
        try:
            os.close(fd)
            # Copy, never move: the caller's file lives in a temp dir that it deletes.
            shutil.copyfile(source, tmp)
            _fsync(tmp)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync(target.parent)  # the rename itself survives a power cut only once its dir is synced

    async def get_file(self, key: str, dest: Path) -> None:
        source = self._path(key)
        try:
            await asyncio.to_thread(shutil.copyfile, source, dest)
        except FileNotFoundError:
            if not await asyncio.to_thread(source.is_file):
                raise KeyError(key) from None
            raise  # dest's directory is missing: the caller's mistake, not a missing blob
        except IsADirectoryError:
            raise KeyError(key) from None

    async def copy(self, src_key: str, dst_key: str) -> None:
        source, target = self._path(src_key), self._path(dst_key)
        try:
            await asyncio.to_thread(self._link, dst_key, target, source)
        except FileNotFoundError:
            if not await asyncio.to_thread(source.is_file):
                raise KeyError(src_key) from None
            raise
        except IsADirectoryError:
            raise KeyError(src_key) from None
        except OSError as exc:
            raise StorageError(f"cannot copy blob {src_key!r} to {dst_key!r}: {exc}") from exc

    def _link(self, key: str, target: Path, source: Path) -> None:
        """A hard link (no bytes copied; put_file replaces files, never writes into them, so
        the two keys stay independent), made under a temp name and renamed into place."""
        if not source.is_file():
            raise FileNotFoundError(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._confine(target.parent.resolve() / target.name, key)  # as _write: after mkdir
        tmp = target.with_name(f".{target.name}.{os.urandom(6).hex()}{TEMP_SUFFIX}")
        try:
            try:
                os.link(source, tmp)
            except OSError:  # a file system without hard links: copy the bytes
                shutil.copyfile(source, tmp)
                _fsync(tmp)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync(target.parent)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except IsADirectoryError:
            return  # a key prefix, not a blob: nothing stored under exactly this key
        except OSError as exc:
            raise StorageError(f"cannot delete blob {key!r}: {exc}") from exc

    async def url(self, key: str, *, expires_s: int) -> str | None:
        check_key(key)
        return None

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    async def ping(self) -> None:
        ok = await asyncio.to_thread(os.access, self._root, os.W_OK | os.X_OK)
        if not ok:
            raise StorageError(f"blob directory {self._root} is not writable")

    async def aclose(self) -> None:
        return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
