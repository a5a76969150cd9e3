"""Shared fixtures: settings built from a mapping, and tiny real media made with lavfi."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.media import ffmpeg, make_tone, make_video
from vidsvc.config import Settings

# Throwaway PostgreSQL, Redis and S3 (moto) servers, or the ones VIDSVC_TEST_*_URL name.
pytest_plugins = [
    "tests.support.pg_server",
    "tests.support.redis_server",
    "tests.support.s3_server",
    # Fixtures more than one directory uses: the HTTP app over a FakeRunner, FFmpeg processes
    # and probe media, rendering a document.
    "tests.support.http_app",
    "tests.support.processes",
    "tests.support.render_doc",
]

HAVE_FFMPEG = bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without FFmpeg, ffmpeg tests skip locally; under CI a missing tool is a failure."""
    if HAVE_FFMPEG:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("CI=true but ffmpeg/ffprobe are not installed (make install)")
    skip = pytest.mark.skip(reason="ffmpeg is not installed")
    for item in items:
        if "ffmpeg" in item.keywords:
            item.add_marker(skip)


def rotated(path: Path) -> Path:
    """The same stream with display-matrix rotation 90 (set by remuxing, as phones do)."""
    out = path.with_name("rotated.mp4")
    ffmpeg("-i", str(path), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(out))
    return out


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short, small inputs of every kind the normalizer must handle."""
    d = tmp_path_factory.mktemp("media")
    return {
        "a": make_video(d / "a.mp4", seconds=3, tone=440),
        "b": make_video(
            d / "b.mp4", size="320x240", rate=30, seconds=3, source="smptebars", tone=None
        ),
        "portrait": make_video(d / "portrait.mp4", size="120x240", rate=30, seconds=2, tone=660),
        "wide60": make_video(d / "wide60.mp4", size="400x200", rate=60, seconds=2, tone=330),
        "vfr": make_video(
            d / "vfr.mkv",
            rate=30,
            seconds=2,
            tone=None,
            extra=("-vf", "setpts='PTS+0.02*random(1)/TB'", "-fps_mode", "vfr"),
        ),
        "rotated": rotated(make_video(d / "landscape.mp4", size="240x120", seconds=2, tone=None)),
        "red": make_video(d / "red.mp4", source="color=c=red", seconds=2, tone=None),
        "blue": make_video(d / "blue.mp4", source="color=c=blue", seconds=2, tone=None),
        "tint": make_video(d / "tint.mp4", source="color=c=0xA06070", seconds=2, tone=None),
        "gray": make_video(d / "gray.mp4", source="color=c=0x808080", seconds=2, tone=None),
        "music": make_tone(d / "music.mp3", freq=220, seconds=2.0),
        "voice": make_tone(d / "voice.wav", freq=880, seconds=1.0),
        "loud": make_tone(d / "loud.wav", freq=500, seconds=3.0, volume=8.0),
    }


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for tests: a private temp dir, fast x264, local files allowed anywhere."""

    def make(**env: str) -> Settings:
        base = {
            "TMP_DIR": str(tmp_path / "work"),
            "ALLOWED_LOCAL_DIRS": "/",
            "X264_PRESET": "ultrafast",
            "JOB_TIMEOUT": "60",
            "RATE_LIMIT_PER_MINUTE": "0",  # tests POST in bursts; the limiter's tests turn it on
        }
        return Settings.from_env(base | env)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()
