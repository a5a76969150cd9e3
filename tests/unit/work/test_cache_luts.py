"""A grade's LUT in the render cache key: by its bytes, never by its URL (a LUT is read by us,
so its digest reaches the key through the blended file's name in the command)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidsvc.config import Settings
from vidsvc.media.load import Load
from vidsvc.runner.reporter import Reporter
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.cache import render_key
from vidsvc.work.compositions.render import prepare

pytestmark = pytest.mark.ffmpeg


def lut(path: Path, dark: float) -> str:
    rows = [
        f"{r * (1 - dark):.3f} {g:.3f} {b:.3f}" for b in (0, 1) for g in (0, 1) for r in (0, 1)
    ]
    path.write_text("LUT_3D_SIZE 2\n" + "\n".join(rows) + "\n")
    return path.as_uri()


async def key(clip: Path, lut_url: str, settings: Settings, work: Path) -> str:
    doc = {"clips": [{"url": clip.as_uri()}], "grade": {"lut_url": lut_url},
           "output": {"resolution": "180p", "fps": 10}}  # fmt: skip
    comp = parse_composition(doc)
    work.mkdir(parents=True)
    prepared = await prepare(comp, settings, work, Reporter(None), load=Load())
    assert any(name.startswith("luts/") for name in _lut_files(work))
    return await render_key(comp, prepared, settings)


def _lut_files(work: Path) -> list[str]:
    return [str(p.relative_to(work)) for p in (work / "luts").iterdir()]


async def test_the_key_follows_the_lut_bytes_not_its_url(
    media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    clip = media["tint"]
    first = await key(clip, lut(tmp_path / "a.cube", 0.5), settings, tmp_path / "w1")
    moved = await key(clip, lut(tmp_path / "b.cube", 0.5), settings, tmp_path / "w2")
    changed = await key(clip, lut(tmp_path / "a.cube", 0.4), settings, tmp_path / "w3")
    assert first == moved  # the same bytes at another URL: a hit
    assert first != changed  # one changed value: a miss
