"""The playground's sample specs: sample_specs/*.json that can render on this instance.

A sample names its media by relative path (`media/clip_a.mp4`, for `vidsvc render`). The
server cannot take relative paths, so each becomes a file:// URL; a sample is offered only
when every file it names exists under ALLOWED_LOCAL_DIRS, so whatever the playground
preloads is accepted by POST. Reads small local files once per request; imports the leaves.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from vidsvc.config import Settings

log = logging.getLogger(__name__)
#: The repository's sample_specs/, when vidsvc runs from a checkout (pip install -e, make run).
REPO_SAMPLES = Path(__file__).resolve().parents[2] / "sample_specs"
MAX_SAMPLE_BYTES = 64 * 1024


class Unavailable(Exception):
    """A sample names a file that is missing or outside ALLOWED_LOCAL_DIRS."""


def samples_dir(settings: Settings) -> Path | None:
    if settings.console_samples_dir:
        return Path(settings.console_samples_dir)
    return REPO_SAMPLES if REPO_SAMPLES.is_dir() else None


def _allowed(path: Path, settings: Settings) -> bool:
    return any(path.is_relative_to(root) for root in settings.allowed_local_dirs)


def _localize(node: Any, base: Path, settings: Settings) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if isinstance(value, str) and (key == "url" or str(key).endswith("_url")):
                out[key] = _file_url(value, base, settings)
            else:
                out[key] = _localize(value, base, settings)
        return out
    if isinstance(node, list):
        return [_localize(item, base, settings) for item in node]
    return node


def _file_url(value: str, base: Path, settings: Settings) -> str:
    if "://" in value:
        return value
    path = (base / value).resolve()
    if not path.is_file() or not _allowed(path, settings):
        raise Unavailable(value)
    return path.as_uri()


def load_samples(settings: Settings) -> list[dict[str, Any]]:
    """[{"name", "spec"}] sorted by name: the samples whose media this instance may read."""
    folder = samples_dir(settings)
    if folder is None or not folder.is_dir():
        return []
    samples = []
    for file in sorted(folder.glob("*.json")):
        try:
            if file.stat().st_size > MAX_SAMPLE_BYTES:
                continue
            spec = _localize(json.loads(file.read_text(encoding="utf-8")), folder, settings)
        except (OSError, ValueError, Unavailable) as exc:
            log.debug("sample %s not offered: %s", file.name, exc)
            continue
        if isinstance(spec, dict):
            samples.append({"name": file.stem, "spec": spec})
    return samples
