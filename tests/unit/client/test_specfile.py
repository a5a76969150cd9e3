"""The spec file `vidsvc submit` sends: absolute paths become file:// URLs, relative ones are
refused naming the field (the server cannot read files beside the user's spec)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidsvc.client.specfile import SpecFileError, load_for_server


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(document))
    return path


def test_absolute_paths_become_file_urls_and_urls_stay(tmp_path: Path) -> None:
    document = {
        "clips": [{"url": "/srv/a.mp4", "trim_end": 2}, {"url": "s3://b/c.mp4"}],
        "audio": {"music_url": "https://example.com/m.mp3", "music_volume": 0.5},
        "fonts": [{"family": "X", "url": "/srv/x.ttf"}],
        "overlays": [{"type": "text", "content": "media/not-a-path.mp4"}],
    }
    sent = load_for_server(write(tmp_path, document))
    assert sent["clips"] == [{"url": "file:///srv/a.mp4", "trim_end": 2}, {"url": "s3://b/c.mp4"}]
    assert sent["audio"]["music_url"] == "https://example.com/m.mp3"
    assert sent["fonts"][0]["url"] == "file:///srv/x.ttf"
    assert sent["overlays"] == document["overlays"]  # text is not an input, whatever it says


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"clips": [{"url": "/a.mp4"}, {"url": "b.mp4"}]}, "clips[1].url"),
        ({"clips": [], "audio": {"voiceover_url": "./vo.wav"}}, "audio.voiceover_url"),
        ({"clips": [], "captions": {"url": "subs/a.srt"}}, "captions.url"),
    ],
)
def test_relative_paths_are_refused_by_field(
    tmp_path: Path, document: dict[str, object], field: str
) -> None:
    with pytest.raises(SpecFileError) as refused:
        load_for_server(write(tmp_path, document))
    assert str(refused.value).startswith(f"{field}: ") and "relative path" in str(refused.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="cannot read"):
        load_for_server(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SpecFileError, match="not valid JSON"):
        load_for_server(tmp_path / "bad.json")
    with pytest.raises(SpecFileError, match="a JSON object"):
        load_for_server(write(tmp_path, [1, 2]))
