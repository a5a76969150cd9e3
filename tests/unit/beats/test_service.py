"""BeatDetector (vidsvc/beats/service.py): analyses shared by bytes, errors to every waiter,
a waiter going away leaving the analysis to the others (and the last one stopping it), the
wait for a slot and the requests under way both bounded.

Real FFmpeg and the real tracker on click tracks; the slot is a unit of a real Budget that the
test holds to keep analyses waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.beat_inputs import click_track
from tests.support.media import make_video
from vidsvc.beats import detect
from vidsvc.beats.service import RETRY_AFTER_S, BeatDetector
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, QueueFull, ServiceUnavailable
from vidsvc.runner.budget import Budget

pytestmark = pytest.mark.ffmpeg


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


@pytest.fixture
def held() -> Budget:
    """One unit, which each test takes first: analyses wait until it is released."""
    return Budget(1)


def leftovers(settings: Settings) -> list[Path]:
    return list(Path(settings.tmp_dir).iterdir())


async def test_an_error_reaches_every_request_sharing_the_analysis(
    held: Budget, settings: Settings, tmp_path: Path
) -> None:
    mute = make_video(tmp_path / "mute.mp4", seconds=1, tone=None)
    beats = BeatDetector(held.unit)
    await held.acquire()
    asking = [asyncio.create_task(beats.detect(mute.as_uri(), settings)) for _ in range(3)]
    await _until(lambda: beats.waiters == 3 and held.waiting == (0, 1))
    assert beats.in_flight == 1  # one analysis for the three
    held.release()
    errors = await asyncio.gather(*asking, return_exceptions=True)
    assert all(isinstance(e, InvalidClipFormat) for e in errors), errors
    assert {e.details["field"] for e in errors if isinstance(e, InvalidClipFormat)} == {"url"}
    assert "no audio stream" in str(errors[0])
    assert beats.in_flight == 0 and beats.pending == 0 and held.in_use == 0
    await _until(lambda: not leftovers(settings))


async def test_a_request_that_goes_away_leaves_the_analysis_to_the_others(
    held: Budget, settings: Settings, tmp_path: Path
) -> None:
    track = click_track(tmp_path, 120)
    beats = BeatDetector(held.unit)
    await held.acquire()
    first = asyncio.create_task(beats.detect(track.as_uri(), settings))
    second = asyncio.create_task(beats.detect(track.as_uri(), settings))
    await _until(lambda: beats.waiters == 2 and held.waiting == (0, 1))
    assert beats.in_flight == 1
    first.cancel()  # its request's scratch directory goes; the staged file moved on already
    await asyncio.gather(first, return_exceptions=True)
    assert beats.in_flight == 1 and beats.waiters == 1
    held.release()
    found = await second
    assert found.bpm is not None and abs(found.bpm - 120) <= 2
    assert detect.cached(found.sha256)
    await _until(lambda: not leftovers(settings))


async def test_when_the_last_request_goes_the_analysis_stops(
    held: Budget, settings: Settings, tmp_path: Path
) -> None:
    track = click_track(tmp_path, 100)
    beats = BeatDetector(held.unit)
    await held.acquire()
    alone = asyncio.create_task(beats.detect(track.as_uri(), settings))
    await _until(lambda: held.waiting == (0, 1))
    alone.cancel()
    await asyncio.gather(alone, return_exceptions=True)
    await _until(lambda: beats.in_flight == 0 and held.waiting == (0, 0))
    assert held.in_use == 1  # still only the test's own unit
    await _until(lambda: not leftovers(settings))


async def test_the_wait_for_a_slot_is_bounded(
    held: Budget, settings: Settings, tmp_path: Path
) -> None:
    track = click_track(tmp_path, 140)
    beats = BeatDetector(held.unit, wait_seconds=0.2)
    await held.acquire()
    with pytest.raises(ServiceUnavailable) as raised:
        await beats.detect(track.as_uri(), settings)
    assert raised.value.details == {"retry_after": RETRY_AFTER_S}
    assert "MAX_CONCURRENT_JOBS" in raised.value.message
    assert held.waiting == (0, 0) and beats.in_flight == 0 and beats.pending == 0


async def test_requests_beyond_max_pending_are_refused_at_once(
    held: Budget, settings: Settings, tmp_path: Path
) -> None:
    tracks = [click_track(tmp_path, bpm) for bpm in (90, 108, 116)]
    beats = BeatDetector(held.unit, max_pending=2)
    await held.acquire()
    asking = [asyncio.create_task(beats.detect(t.as_uri(), settings)) for t in tracks[:2]]
    await _until(lambda: held.waiting == (0, 2))
    with pytest.raises(QueueFull) as raised:
        await beats.detect(tracks[2].as_uri(), settings)
    assert raised.value.details == {"retry_after": RETRY_AFTER_S}
    assert beats.pending == 2
    held.release()
    answers = await asyncio.gather(*asking)
    for bpm, answer in zip((90, 108), answers, strict=True):
        assert answer.bpm is not None and abs(answer.bpm - bpm) <= 2
    assert beats.pending == 0
