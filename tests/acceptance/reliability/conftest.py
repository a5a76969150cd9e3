"""The RELIABILITY.md bars (Part B), one test per case, marked by group: `pytest -m C`.

Markers: L (load and backpressure), C (crash and restart), D (dependency outages),
B (bad input), S (security). Fixtures for a real `vidsvc serve` come from tests/support/server.py,
the real app in process (`make_app`, with its `clips`) from tests/support/real_app.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.media import FAST, ffmpeg
from tests.support.real_app import clips, make_app
from tests.support.server import http, long_clip, server

__all__ = ["clips", "http", "long_clip", "make_app", "server"]


@pytest.fixture(scope="module")
def gray(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of flat grey at 320x180: the security cases' neutral input."""
    path = tmp_path_factory.mktemp("text") / "gray.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x808080:s=320x180:r=10:d=1", *FAST, str(path))
    return path
