"""style.font names to installed files (media/fonts.py, issue 22): an unknown name is the
documented default (DejaVu Sans), not fontconfig's best match, and names from a request cost a
bounded number of fontconfig children and a bounded cache. Real fc-list and fc-match."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import pytest

from vidsvc.config import Settings
from vidsvc.media import fonts
from vidsvc.media.fonts import resolve_font
from vidsvc.media.process import Captured, run_capture
from vidsvc.schema import parse_composition


@pytest.fixture(autouse=True)
def empty_font_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_cache", {})
    monkeypatch.setattr(fonts, "_listing", [])


class Watch:
    """The real run_capture, counting fontconfig children running at once."""

    def __init__(self) -> None:
        self.running = self.most = self.calls = 0

    async def __call__(self, argv: list[str], **kw: Any) -> Captured:
        self.calls += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0.01)  # let every waiting name reach the gate meanwhile
            return await run_capture(argv, **kw)
        finally:
            self.running -= 1


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    watched = Watch()
    monkeypatch.setattr(fonts, "run_capture", watched)
    return watched


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("DejaVu Serif", "DejaVuSerif.ttf"),
        ("dejavu  serif", "DejaVuSerif.ttf"),  # fontconfig ignores case and blanks
        ("Noto Sans", "NotoSans-Regular.ttf"),
        ("monospace", "DejaVuSansMono.ttf"),  # a generic family: fontconfig's choice
        ("Noto Sans Unknown", "DejaVuSans.ttf"),  # fc-match alone answered Noto Sans
        ("Arial", "DejaVuSans.ttf"),  # not installed: the default, not a "best match"
    ],
)
async def test_installed_families_and_the_default(
    runner_settings: Callable[..., Settings], name: str, file: str
) -> None:
    path = await resolve_font(name, runner_settings())
    assert os.path.basename(path) == file, path


async def test_97_unknown_names_in_one_composition_start_no_fc_match_each(
    runner_settings: Callable[..., Settings], watch: Watch
) -> None:
    """The red-team case: 97 overlays, each with its own unknown font, started 97 fc-match at
    once and each got Noto Sans. Now: one fc-list, never more than FC_MATCH_CONCURRENCY
    children at once, and every name is the default file."""
    overlays = [{"content": "x", "style": {"font": f"Nofont{i}"}} for i in range(97)]
    comp = parse_composition({"clips": [{"url": "s3://b/a.mp4"}], "overlays": overlays})
    names = comp.text_fonts()
    assert len(names) == 97
    settings = runner_settings()
    paths = await asyncio.gather(*(resolve_font(n, settings) for n in names))
    assert set(paths) == {fonts.DEFAULT_FONT_FILE}
    assert watch.calls == 1, watch.calls  # the listing only
    assert watch.most <= fonts.FC_MATCH_CONCURRENCY


async def test_without_a_listing_the_children_are_bounded_and_checked(
    runner_settings: Callable[..., Settings], watch: Watch
) -> None:
    """fc-list failed (cached as unknown): every name goes to fc-match, at most
    FC_MATCH_CONCURRENCY at once, and its best match still does not count for an unknown
    name, while an installed family is still found."""
    fonts._listing.append(None)
    settings = runner_settings()
    names = [f"Nofont{i}" for i in range(20)] + ["DejaVu Serif"]
    paths = await asyncio.gather(*(resolve_font(n, settings) for n in names))
    assert set(paths[:-1]) == {fonts.DEFAULT_FONT_FILE}
    assert os.path.basename(paths[-1]) == "DejaVuSerif.ttf"
    assert watch.calls == 21 and watch.most == fonts.FC_MATCH_CONCURRENCY, watch.__dict__


async def test_the_cache_keeps_the_most_recently_used_names(
    runner_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, watch: Watch
) -> None:
    monkeypatch.setattr(fonts, "FONT_CACHE_SIZE", 3)
    settings = runner_settings()
    for name in ("DejaVu Serif", "DejaVu Sans Mono", "Nofont1", "DejaVu Serif", "Nofont2"):
        await resolve_font(name, settings)
    assert list(fonts._cache) == ["Nofont1", "DejaVu Serif", "Nofont2"]  # Mono went first
    calls = watch.calls
    assert os.path.basename(await resolve_font("DejaVu Serif", settings)) == "DejaVuSerif.ttf"
    assert watch.calls == calls  # answered from the cache
