"""FFMPEG_THREADS: vidsvc's per-job share by default, an explicit count, or FFmpeg's own choice."""

from __future__ import annotations

import asyncio

import pytest

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import ConfigError
from vidsvc.media import threads
from vidsvc.media.load import Load
from vidsvc.work.compositions import facts


@pytest.mark.parametrize(
    ("cores", "running", "max_concurrent", "expected"),
    [
        (2, 0, 5, 3),  # alone: x264's own 1.5 per core, as if FFmpeg chose
        (2, 1, 5, 1),  # a second render: 3 threads shared by two
        (2, 4, 5, 1),  # never below one
        (8, 0, 5, 12),
        (8, 3, 5, 3),  # four renders share 12
        (8, 9, 5, 2),  # more running than slots (a draining pool): capped at the slots
        (1, 0, 1, 1),
    ],
)
def test_share(cores: int, running: int, max_concurrent: int, expected: int) -> None:
    assert threads.share(cores, running, max_concurrent) == expected


def test_setting_parses_auto_counts_and_the_default() -> None:
    assert Settings.from_env({}).ffmpeg_threads == 0
    assert Settings.from_env({"FFMPEG_THREADS": "auto"}).ffmpeg_threads == threads.AUTO
    assert Settings.from_env({"FFMPEG_THREADS": "4"}).ffmpeg_threads == 4
    for bad in ("-1", "65", "many"):
        with pytest.raises(ConfigError):
            Settings.from_env({"FFMPEG_THREADS": bad})


def test_the_compiled_encoding_follows_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    comp = spec.Composition(clips=(spec.Clip(url="s3://b/a.mp4"),))
    monkeypatch.setattr(threads, "cores", lambda: 4)
    load = Load()
    load.under_way = 1  # the render being compiled

    def compiled(**env: str) -> int:
        settings = Settings.from_env(env)
        return facts.encoding(
            comp, settings, 1000, threads.threads_for_job(settings, load)
        ).threads

    assert compiled() == 6  # alone on 4 cores
    load.under_way = 3
    assert compiled() == 2  # a third render among MAX_CONCURRENT_JOBS=5
    assert compiled(FFMPEG_THREADS="3") == 3  # explicit wins
    assert compiled(FFMPEG_THREADS="auto") == 0  # no -threads option: FFmpeg decides


async def test_renders_count_from_their_start_not_their_ffmpeg(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five jobs claimed together compile together, before any FFmpeg runs: each must still
    see the other four, or all five would take the whole machine."""
    monkeypatch.setattr(threads, "cores", lambda: 2)
    settings = Settings.from_env({})
    gate, encoded, seen = asyncio.Event(), asyncio.Event(), []
    load = Load()

    async def job() -> None:
        with load.render():  # as the pool counts a job from its claim
            await gate.wait()  # staging and probing: no FFmpeg yet
            seen.append(threads.threads_for_job(settings, load))
            await encoded.wait()

    tasks = [asyncio.create_task(job()) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    while len(seen) < 5:
        await asyncio.sleep(0)
    encoded.set()
    await asyncio.gather(*tasks)
    assert seen == [1] * 5
    with load.render():
        assert threads.threads_for_job(settings, load) == 3  # all done: a new render is alone


async def test_sharing_is_the_time_average_of_renders_under_way() -> None:
    """Load.sharing_since: a render alone is exactly 1; one that another render overlapped
    for part of its span is between 1 and 2 (the estimator reads machine throughput from it)."""
    started, finished = asyncio.Event(), asyncio.Event()
    load = Load()

    async def other() -> None:
        with load.render():
            await asyncio.sleep(0.05)
            finished.set()

    async def measured(with_other: bool) -> float:
        with load.render():
            start = load.mark()
            if with_other:
                started.set()
                await finished.wait()  # the other render began and ended inside our span
            await asyncio.sleep(0.05)
            return load.sharing_since(start)

    async def beside() -> None:
        await started.wait()
        await other()

    assert await measured(False) == pytest.approx(1.0)
    shared, _ = await asyncio.gather(measured(True), beside())
    assert 1.0 < shared < 2.0
