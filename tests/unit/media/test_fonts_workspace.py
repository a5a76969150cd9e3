"""resolve_font (fc-match with a fallback that never fails) and the per-job workspace."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from vidsvc.config import Settings
from vidsvc.media import fonts
from vidsvc.media.fonts import resolve_font
from vidsvc.media.workspace import workspace, write_files


@pytest.fixture(autouse=True)
def empty_font_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_cache", {})
    monkeypatch.setattr(fonts, "_listing", [])


async def test_a_known_family(runner_settings: Callable[..., Settings]) -> None:
    path = await resolve_font("DejaVu Sans", runner_settings())
    assert os.path.isfile(path) and os.path.basename(path) == "DejaVuSans.ttf"
    mono = await resolve_font("DejaVu Sans Mono", runner_settings())
    assert os.path.basename(mono) == "DejaVuSansMono.ttf"


@pytest.mark.parametrize("name", ["NoSuchFont123", "Foo-12", "-v", "x.y_z"])
async def test_unknown_families_fall_back_to_a_file(
    runner_settings: Callable[..., Settings], name: str
) -> None:
    path = await resolve_font(name, runner_settings())
    assert path == fonts.DEFAULT_FONT_FILE  # docs/composition.md's default, not a best match


async def test_without_fc_match(
    runner_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    path = await resolve_font("DejaVu Sans", runner_settings())
    assert path == fonts.DEFAULT_FONT_FILE


async def test_answers_are_cached(
    runner_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await resolve_font("DejaVu Serif", runner_settings())
    monkeypatch.setenv("PATH", "/nonexistent")  # a second lookup would fall back
    assert await resolve_font("DejaVu Serif", runner_settings()) == first


async def test_workspace_is_private_and_removed(runner_settings: Callable[..., Settings]) -> None:
    settings = runner_settings()
    async with workspace(settings, "comp_1/../x") as work:
        assert work.parent == settings.tmp_dir and work.name.startswith("comp_1_x-")
        assert stat.S_IMODE(work.stat().st_mode) == 0o700
        (work / "in0.mp4").write_bytes(b"x")
        (work / "sub").mkdir()
    assert not work.exists()
    async with workspace(settings, "comp_1") as again:
        assert again != work


async def test_workspace_is_removed_on_errors_and_cancellation(
    runner_settings: Callable[..., Settings],
) -> None:
    settings = runner_settings()
    with pytest.raises(RuntimeError):
        async with workspace(settings, "boom") as work:
            raise RuntimeError("boom")
    assert not work.exists()

    entered = asyncio.Event()
    seen: list[Path] = []

    async def job() -> None:
        async with workspace(settings, "cancelled") as path:
            seen.append(path)
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(job())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not seen[0].exists()


async def test_keep_temp_files(runner_settings: Callable[..., Settings]) -> None:
    async with workspace(runner_settings(keep_temp_files=True), "kept") as work:
        pass
    assert work.is_dir()


async def test_write_files(runner_settings: Callable[..., Settings]) -> None:
    async with workspace(runner_settings(), "files") as work:
        write_files(work, {"t0.txt": "50% off: 'now' \\ [x]", "graph.txt": "null"})
        assert (work / "t0.txt").read_text() == "50% off: 'now' \\ [x]"
        for bad in ("../escape.txt", "/etc/x", ".hidden", "a/b.txt", ""):
            with pytest.raises(ValueError):
                write_files(work, {bad: "x"})
