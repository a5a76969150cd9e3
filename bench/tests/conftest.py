"""Without FFmpeg, the bench tests marked `ffmpeg` skip locally; under CI a missing tool fails."""

from __future__ import annotations

import os
import shutil

import pytest

HAVE_FFMPEG = bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_FFMPEG:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("CI=true but ffmpeg/ffprobe are not installed (make install)")
    skip = pytest.mark.skip(reason="ffmpeg is not installed")
    for item in items:
        if "ffmpeg" in item.keywords and "bench" in item.path.parts:
            item.add_marker(skip)
