"""Settings that cannot be right stop start-up: ALLOWED_LOCAL_DIRS in both list styles."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidsvc.config import Settings
from vidsvc.errors import ConfigError


@pytest.mark.parametrize("sep", [",", ":", ", ", " : "])
def test_allowed_local_dirs_takes_commas_and_colons(tmp_path: Path, sep: str) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    settings = Settings.from_env({"ALLOWED_LOCAL_DIRS": f"{a}{sep}{b}"})
    assert settings.allowed_local_dirs == (a.resolve(), b.resolve())


def test_a_missing_allowed_directory_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"ALLOWED_LOCAL_DIRS": f"{tmp_path / 'a'}:{missing}"})
    message = str(caught.value)
    assert "ALLOWED_LOCAL_DIRS" in message and f"{missing} is not an existing directory" in message
    assert "\n" not in message


def test_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="ALLOWED_LOCAL_DIRS"):
        Settings.from_env({"ALLOWED_LOCAL_DIRS": str(tmp_path / "f")})


def test_empty_means_no_local_files() -> None:
    assert Settings.from_env({"ALLOWED_LOCAL_DIRS": ""}).allowed_local_dirs == ()


def test_console_samples_dir_must_exist_when_set(tmp_path: Path) -> None:
    assert Settings.from_env({"CONSOLE_SAMPLES_DIR": ""}).console_samples_dir == ""
    assert Settings.from_env({"CONSOLE_SAMPLES_DIR": str(tmp_path)}).console_samples_dir == str(
        tmp_path.resolve()
    )
    with pytest.raises(ConfigError, match="CONSOLE_SAMPLES_DIR"):
        Settings.from_env({"CONSOLE_SAMPLES_DIR": str(tmp_path / "nope")})
