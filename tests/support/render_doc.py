"""Render fixtures (a pytest plugin): the real pipeline (staging, probe, FFmpeg) on lavfi media."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from vidsvc.config import Settings
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import RenderResult, render

Render = Callable[..., Awaitable[RenderResult]]


@pytest.fixture
def render_doc(settings: Settings, tmp_path: Path) -> Render:
    """Render a composition document (paths as plain strings) at a small size, fast preset."""
    count = 0

    async def run(document: dict[str, Any], **kw: Any) -> RenderResult:
        nonlocal count
        count += 1
        document = {"output": {"resolution": "180p", "fps": 10}, **document}
        comp = parse_composition(_as_urls(document))
        out = tmp_path / f"out{count}.mp4"
        return await render(
            comp, settings, video_out=out, thumbnail_out=out.with_suffix(".jpg"), **kw
        )

    return run


def _as_urls(document: dict[str, Any]) -> dict[str, Any]:
    def url(value: Any) -> Any:
        return Path(value).as_uri() if isinstance(value, (str, Path)) else value

    clips = [{**c, "url": url(c["url"])} for c in document.get("clips", [])]
    audio = {k: url(v) if k.endswith("_url") else v for k, v in document.get("audio", {}).items()}
    overlays = [
        {**o, "url": url(o["url"])} if "url" in o else o for o in document.get("overlays", [])
    ]
    return {
        **document,
        "clips": clips,
        **({"audio": audio} if audio else {}),
        **({"overlays": overlays} if overlays else {}),
    }
