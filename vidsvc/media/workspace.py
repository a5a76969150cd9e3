"""The per-job scratch directory: private (0700), unique, and always removed afterwards.

Everything a job writes (staged inputs, side files, the output before upload) lives
here, so deleting one directory leaves nothing behind (docs/reliability.md INV-4). Directories are
named `<job id>-<suffix>`; `sweep` removes those whose job is over or unknown (C10).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from vidsvc.config import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_SIDE_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
#: A scratch directory's name starts with its job's id (vidsvc.jobs.new_job_id).
_JOB_DIR = re.compile(r"^((?:comp|proc)_[0-9a-f]{24})(?:[-.].*)?$")


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


def job_of(directory: Path) -> str | None:
    """The id of the job a scratch directory belongs to, or None if it is no job's."""
    found = _JOB_DIR.match(directory.name)
    return found.group(1) if found else None


async def sweep(root: Path, live: Callable[[str], Awaitable[bool]]) -> list[Path]:
    """Remove the job directories right under `root` whose job is not `live`; those removed.

    Anything not named like a job's (another instance's `jobs/<owner>` tree, an operator's
    file) is left alone, and so is the directory of a job that is still queued or running.
    """
    if not root.is_dir():
        return []
    removed = []
    for entry in sorted(root.iterdir()):
        job_id = job_of(entry)
        if job_id is None or not entry.is_dir() or entry.is_symlink() or await live(job_id):
            continue
        await asyncio.to_thread(shutil.rmtree, entry, ignore_errors=True)
        removed.append(entry)
    return removed
