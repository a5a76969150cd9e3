"""A real `vidsvc serve` (tests/support/server.py) and tiny clips under its ALLOWED_LOCAL_DIRS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.media import make_video
from tests.support.server import Server


@pytest.fixture
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("client-media")
    return {
        "short": make_video(d / "short.mp4", size="320x180", seconds=1.0),
        "long": make_video(d / "long.mp4", size="640x360", rate=30, seconds=8.0),
    }


@pytest.fixture
def live(tmp_path: Path, clips: dict[str, Path]) -> Iterator[Server]:
    srv = Server(tmp_path, {"ALLOWED_LOCAL_DIRS": str(clips["short"].parent)})
    srv.start()
    yield srv
    srv.stop()
