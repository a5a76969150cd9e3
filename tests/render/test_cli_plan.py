"""`vidsvc render --plan SPEC.json`: the dry run's plan as JSON on stdout, nothing rendered; the
error envelope and exit 1 when the render would fail; exit 2 for OUT and --plan together or
neither."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidsvc.__main__ import main

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
def project(tmp_path: Path, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a 3 s clip that specs name by relative path."""
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.mp4").symlink_to(media["a"])
    monkeypatch.setenv("TMP_DIR", str(tmp_path / "work"))
    return tmp_path


def write_spec(folder: Path, document: object) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps(document))
    return path


def test_plan_prints_the_plan_and_renders_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(
        project,
        {
            "clips": [
                {"url": "media/a.mp4", "trim_start": 1},  # to the source's end: 2 s
                {"url": "media/a.mp4", "trim_end": 1, "transition_in": "fade",
                 "transition_duration": 0.4},
            ],
            "output": {"resolution": "360p", "aspect_ratio": "9:16", "fps": 24},
        },
    )  # fmt: skip
    assert main(["render", "--plan", str(spec)]) == 0
    out = capsys.readouterr().out
    assert out.startswith('{\n  "plan": {\n')  # indented by 2
    plan = json.loads(out)["plan"]
    assert (plan["duration"], plan["width"], plan["height"], plan["fps"]) == (3.0, 360, 640, 24)
    first, second = plan["clips"]
    assert (first["trim_start"], first["trim_end"], first["end_time"]) == (1.0, 3.0, 2.0)
    assert first["url"] == (project / "media" / "a.mp4").resolve().as_uri()
    assert (second["start_time"], second["transition_in"], second["transition_duration"]) == (
        2.0,
        "fade",
        0.4,
    )
    assert plan["renditions"] == [{"aspect_ratio": "9:16", "width": 360, "height": 640}]
    assert plan["estimated_duration"] > 0
    assert not list((project / "work").iterdir())  # the staged files are gone
    assert not list(project.glob("*.mp4")) and not list(project.glob("*.jpg"))


def test_plan_failures_print_the_envelope_and_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(project, {"clips": [{"url": "media/a.mp4", "trim_end": 9}]})
    assert main(["render", "--plan", str(spec)]) == 1
    captured = capsys.readouterr()
    error = json.loads(captured.err.strip().splitlines()[-1])["error"]
    assert error["code"] == "INVALID_TIMELINE"
    assert error["details"]["field"] == "clips[0].trim_end"
    assert captured.out == ""


@pytest.mark.parametrize("args", [["render", "SPEC"], ["render", "SPEC", "out.mp4", "--plan"]])
def test_out_or_plan_exactly_one(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    spec = str(write_spec(project, {"clips": [{"url": "media/a.mp4"}]}))
    assert main([spec if a == "SPEC" else a for a in args]) == 2
    assert "OUT or --plan" in capsys.readouterr().err
