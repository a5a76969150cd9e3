"""A file's digest is read once per identity: the probe, the narration measurement and the
render-cache key ask for the same input's in one render."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from vidsvc.media import digest


def test_a_file_is_read_once_and_a_rewrite_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Path] = []
    real = digest.hashed

    def counted(path: Path) -> str:
        reads.append(path)  # a spy: the file is hashed for real
        return real(path)

    monkeypatch.setattr(digest, "hashed", counted)
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"first bytes")
    link = tmp_path / "staged.mp4"
    link.symlink_to(path)  # staged as a link: the same file
    first = hashlib.sha256(b"first bytes").hexdigest()
    assert digest.of_file(path) == digest.of_file(link) == first
    assert len(reads) == 1
    path.write_bytes(b"other bytes")
    # a rewrite moves the modification time; set apart here, since two writes can fall within
    # one tick of the filesystem's clock
    os.utime(path, ns=(1, 1))
    assert digest.of_file(link) == hashlib.sha256(b"other bytes").hexdigest()
    assert len(reads) == 2
