"""The per-job scratch directory: private (0700), unique, and always removed afterwards.

Everything a job writes (staged inputs, side files, the output before upload) lives
here, so deleting one directory leaves nothing behind (RELIABILITY INV-4).

Imports only the leaves.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from vidsvc.config import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_SIDE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


@asynccontextmanager
async def workspace(settings: Settings, name: str) -> AsyncIterator[Path]:
    """A fresh directory under TMP_DIR for one job; removed on exit unless KEEP_TEMP_FILES."""
    root = Path(settings.tmp_dir)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    prefix = (_UNSAFE.sub("_", name)[:48] or "job") + "-"
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))  # mkdtemp makes it 0700
    try:
        yield path
    finally:
        if not settings.keep_temp_files:
            # In a thread: a big tree must not stall the loop; shielded so a second
            # cancellation cannot leave the directory behind.
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, path, ignore_errors=True))


def write_files(workdir: Path, files: Mapping[str, str]) -> None:
    """Write side files (drawtext texts, filter scripts) under plain, service-chosen names."""
    for name, text in files.items():
        if not _SIDE_FILE.match(name):
            raise ValueError(f"side file name {name!r} is not a plain file name")
        (workdir / name).write_text(text, encoding="utf-8")
