"""A staged file's sha256: what the probe, narration, beat and render caches key by, so the same
bytes at another path or URL are the same input."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

CHUNK = 1 << 20  #: hashlib lets go of the GIL for each chunk this size


def of_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


async def of_files(paths: list[Path]) -> list[str]:
    """Hex digests in order, hashed in threads side by side (never on the loop)."""
    return list(await asyncio.gather(*(asyncio.to_thread(of_file, p) for p in paths)))
