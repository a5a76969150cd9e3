"""A staged file's sha256: what the probe, narration, beat and render caches key by, so the same
bytes at another path or URL are the same input.

One render asks for the same file's digest up to three times (its probe, its narration
measurement, the render-cache key), so digests are remembered by the file's identity (device,
inode, size, modification time in ns: a local input is staged as a link to its file, and a
rewrite moves the time) and a large input is read once. A rewrite to the same size within one
tick of the filesystem's clock (a few ms) would keep its old digest; no input is rewritten
while a render reads it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

CHUNK = 1 << 20  #: hashlib lets go of the GIL for each chunk this size
REMEMBERED = 4096  #: digests kept, least recently asked for out first

_Identity = tuple[int, int, int, int]
_KNOWN: OrderedDict[_Identity, str] = OrderedDict()
_LOCK = threading.Lock()  #: asked from several threads at once


def of_file(path: Path) -> str:
    st = path.stat()
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _LOCK:
        if identity in _KNOWN:
            _KNOWN.move_to_end(identity)
            return _KNOWN[identity]
    found = hashed(path)
    with _LOCK:
        _KNOWN[identity] = found
        while len(_KNOWN) > REMEMBERED:
            _KNOWN.popitem(last=False)
    return found


def hashed(path: Path) -> str:
    """The file's bytes hashed, now."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()
