"""Process fixtures (a pytest plugin): settings, the fake FFmpeg, process checks, probe media."""

from __future__ import annotations

import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vidsvc.config import Settings

#: A stand-in FFmpeg that misbehaves as FAKE_FFMPEG_MODE says (tests/support/fakes/fake_ffmpeg.py).
FAKE_FFMPEG = Path(__file__).resolve().parent / "fakes" / "fake_ffmpeg.py"


@pytest.fixture
def runner_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for one test from keyword values (not env strings, unlike make_settings)."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"tmp_dir": tmp_path / "vidsvc-tmp", "kill_grace": 0.5}
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def fake_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], Path]:
    """Select a fake-FFmpeg mode; returns the pid file the fake appends to."""
    pidfile = tmp_path / "fake.pids"

    def select(mode: str) -> Path:
        monkeypatch.setenv("FAKE_FFMPEG_MODE", mode)
        monkeypatch.setenv("FAKE_FFMPEG_PIDFILE", str(pidfile))
        return pidfile

    return select


def read_pids(pidfile: Path, count: int, timeout: float = 10.0) -> list[int]:
    """The first `count` pids the fake wrote, waiting for them to appear."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pidfile.exists():
            pids = [int(p) for p in pidfile.read_text().split()]
            if len(pids) >= count:
                return pids[:count]
        time.sleep(0.02)
    raise AssertionError(f"the fake did not write {count} pid(s) to {pidfile}")


def is_alive(pid: int) -> bool:
    """True while pid runs; a zombie (dead, not yet reaped by init) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def procs() -> Any:
    """Process helpers for tests: read_pids, is_alive, wait_gone."""

    class Procs:
        read_pids = staticmethod(read_pids)
        is_alive = staticmethod(is_alive)
        wait_gone = staticmethod(wait_gone)

    return Procs


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


_V = ("-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=1")
_A = ("-f", "lavfi", "-i", "sine=f=440:d=1")
_X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def _make_media(root: Path) -> dict[str, Path]:
    m = {name: root / name for name in ("av.mp4", "video.mp4", "audio.mp3", "audio.wav")}
    _ffmpeg(*_V, *_A, *_X264, "-c:a", "aac", "-shortest", str(m["av.mp4"]))
    _ffmpeg(*_V, *_X264, str(m["video.mp4"]))
    _ffmpeg(*_A, "-c:a", "libmp3lame", str(m["audio.mp3"]))
    _ffmpeg(*_A, str(m["audio.wav"]))
    m["rotated.mp4"] = root / "rotated.mp4"
    _ffmpeg(
        "-i", str(m["av.mp4"]), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(m["rotated.mp4"])
    )
    m["picture.jpg"] = root / "picture.jpg"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120", "-frames:v", "1", str(m["picture.jpg"]))
    srt = root / "sub.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    m["subtitles.mkv"] = root / "subtitles.mkv"
    _ffmpeg("-i", str(srt), str(m["subtitles.mkv"]))
    return m


def _make_disguises(root: Path, m: dict[str, Path]) -> None:
    (root / "text.mp4").write_text("this is not a video\n")
    shutil.copy(m["picture.jpg"], root / "jpeg.mp4")
    with zipfile.ZipFile(root / "archive.mp4", "w") as z:
        z.writestr("a.txt", "x" * 4096)
    (root / "hls.mp4").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    )
    (root / "concat.mov").write_text("ffconcat version 1.0\nfile /etc/passwd\n")
    (root / "dash.mp4").write_text(
        '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
        'mediaPresentationDuration="PT1S"><Period><AdaptationSet><Representation id="1" '
        'bandwidth="1000"><BaseURL>file:///etc/passwd</BaseURL></Representation>'
        "</AdaptationSet></Period></MPD>\n"
    )
    whole = m["av.mp4"].read_bytes()  # moov is at the end: no +faststart
    (root / "truncated.mp4").write_bytes(whole[: len(whole) * 6 // 10])
    for name in (
        "text.mp4",
        "jpeg.mp4",
        "archive.mp4",
        "hls.mp4",
        "concat.mov",
        "dash.mp4",
        "truncated.mp4",
    ):
        m[name] = root / name


@pytest.fixture(scope="session")
def probe_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny real media made with lavfi, plus non-media in disguise; by file name."""
    if shutil.which("ffmpeg") is None:  # tests/conftest.py fails such runs under CI
        pytest.skip("ffmpeg is not installed")
    root = tmp_path_factory.mktemp("media")
    m = _make_media(root)
    _make_disguises(root, m)
    return m
