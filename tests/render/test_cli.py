"""`vidsvc render SPEC.json OUT.mp4`: relative paths, exit codes, the error envelope on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import probe, stream
from vidsvc.__main__ import main

pytestmark = pytest.mark.ffmpeg


def write_spec(folder: Path, document: Any) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


@pytest.fixture
def project(tmp_path: Path, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a spec referring to its media by relative path."""
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.mp4").symlink_to(media["a"])
    monkeypatch.setenv("TMP_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("X264_PRESET", "ultrafast")
    return tmp_path


def test_render_with_relative_paths(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(
        project,
        {
            "clips": [{"url": "media/a.mp4", "trim_end": 1}],
            "output": {"resolution": "180p", "fps": 10},
        },
    )
    out = project / "out" / "video.mp4"
    assert main(["render", str(spec), str(out), "--quiet"]) == 0
    assert stream(probe(out), "video")["width"] == 320
    assert (project / "out" / "video.jpg").stat().st_size > 0
    assert str(out) in capsys.readouterr().out
    assert not list((project / "work").iterdir())  # the workspace is gone


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("{not json", "VALIDATION_ERROR"),
        ({"clips": [{"url": "media/a.mp4", "trim_start": "x"}]}, "VALIDATION_ERROR"),
        ({"clips": [{"url": "media/a.mp4", "trim_end": 60}]}, "INVALID_TIMELINE"),
        ({"clips": [{"url": "media/missing.mp4"}]}, "INPUT_UNAVAILABLE"),
        ({"clips": [{"url": "spec.json"}]}, "INVALID_CLIP_FORMAT"),
        ({"clips": [{"url": "ftp://example.com/a.mp4"}]}, "INVALID_CLIP_FORMAT"),
    ],
)
def test_failures_print_the_envelope_and_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str], document: Any, code: str
) -> None:
    spec = write_spec(project, document)
    assert main(["render", str(spec), str(project / "o.mp4")]) == 1
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])["error"]
    assert error["code"] == code
    assert {"message", "details", "timestamp", "request_id"} <= set(error)
    assert not (project / "o.mp4").exists()


def test_a_bad_setting_exits_2_naming_it(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_CRF", "99")
    assert main(["render", str(project / "x.json"), str(project / "o.mp4")]) == 2
    assert "DEFAULT_CRF" in capsys.readouterr().err


def test_the_console_script_runs(project: Path) -> None:
    spec = write_spec(
        project,
        {
            "clips": [{"url": "media/a.mp4", "trim_end": 0.5}],
            "output": {"resolution": "180p", "fps": 10},
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "vidsvc", "render", str(spec), str(project / "o.mp4")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (project / "o.mp4").stat().st_size > 0


def test_migrate_creates_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    assert main(["migrate"]) == 0
    assert (tmp_path / "data" / "vidsvc.db").stat().st_size > 0
    assert main(["migrate"]) == 0  # idempotent
    assert "up to date" in capsys.readouterr().out
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    assert main(["migrate"]) == 2
