"""Beat detection inside the concurrency budget (issue 22), through the real app in process.

FFMPEG_BIN is tests/support/fakes/counting_ffmpeg.py: the real FFmpeg, with each run's start
and end appended to a log in the order they happen, so "never more than N at once" is read
from the log, not sampled. A beat decode can be held (COUNTING_FFMPEG_HOLD: a sleep, so that
decodes allowed to overlap would) or gated (COUNTING_FFMPEG_GATE: one `go` file, one decode), so
orderings are asserted by events, never by wall-clock times. Every input is made per test with
a unique comment, so the process-wide beat cache never answers for another test's analysis.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.beat_inputs import TEMPOS, click_track
from tests.support.processes import FAKE_FFMPEG
from tests.support.real_app import App
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.runner.budget import Budget

pytestmark = [pytest.mark.L, pytest.mark.ffmpeg]

COUNTING_FFMPEG = FAKE_FFMPEG.with_name("counting_ffmpeg.py")
BEATS = "/internal/v1/beat-detection"


class Runs:
    """The counting FFmpeg's log: (event, pid, kind) in the order they happened."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def events(self) -> list[tuple[str, str]]:
        if not self.log.exists():
            return []
        lines = [line.split() for line in self.log.read_text().splitlines()]
        return [(event, kind) for event, _pid, kind in lines]

    def most_at_once(self) -> int:
        running = most = 0
        for event, _kind in self.events():
            running += 1 if event == "start" else -1
            most = max(most, running)
        return most

    def decodes_started(self) -> int:
        return self.events().count(("start", "decode"))


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Runs:
    log = tmp_path / "ffmpeg-runs.log"
    monkeypatch.setenv("COUNTING_FFMPEG_LOG", str(log))
    return Runs(log)


@pytest.fixture
def music(tmp_path: Path) -> Path:
    return (tmp_path / "music").resolve()


@pytest.fixture
def beats_app(
    make_app: Callable[..., Awaitable[App]], clips: Path, music: Path
) -> Callable[..., Awaitable[App]]:
    async def start(**env: str) -> App:
        music.mkdir(exist_ok=True)
        base = {
            "FFMPEG_BIN": str(COUNTING_FFMPEG),
            "ENABLE_BEAT_DETECTION": "true",
            "ALLOWED_LOCAL_DIRS": f"{clips},{music}",
            "MAX_CONCURRENT_JOBS": "1",
        }
        return await make_app(**(base | env))

    return start


async def detect(app: App, path: Path) -> tuple[int, dict[str, Any]]:
    resp = await app.client.post(BEATS, json={"url": path.as_uri()})
    body: dict[str, Any] = await resp.json()
    return resp.status, body


def budget_of(app: App) -> Budget:
    return app.client.app[RUNNER_KEY].pool.budget


async def until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


async def test_eight_analyses_never_run_more_ffmpeg_than_max_concurrent_jobs(
    beats_app: Callable[..., Awaitable[App]],
    runs: Runs,
    music: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """8 requests for 8 different inputs at once, MAX_CONCURRENT_JOBS=1, each decode held
    0.3 s: never two FFmpeg processes at once, 8 decodes, 8 right answers."""
    monkeypatch.setenv("COUNTING_FFMPEG_HOLD", "0.3")
    app = await beats_app()
    tracks = {bpm: click_track(music, bpm) for bpm in TEMPOS}
    answers = await asyncio.gather(*(detect(app, path) for path in tracks.values()))
    for bpm, (status, body) in zip(tracks, answers, strict=True):
        assert status == 200, body
        assert abs(body["bpm"] - bpm) <= 2, (bpm, body["bpm"])
    assert runs.decodes_started() == 8
    assert runs.most_at_once() == 1, runs.events()
    assert budget_of(app).in_use == 0


async def test_four_requests_for_the_same_bytes_share_one_decode(
    beats_app: Callable[..., Awaitable[App]],
    runs: Runs,
    music: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """4 requests at once for one input (two URLs of the same bytes), with slots for 4: one
    decode, one answer (not the cache: the 4 would find it empty and decode side by side)."""
    monkeypatch.setenv("COUNTING_FFMPEG_HOLD", "0.3")
    app = await beats_app(MAX_CONCURRENT_JOBS="4")
    track = click_track(music, 120)
    twin = track.with_name("twin.wav")
    twin.write_bytes(track.read_bytes())
    answers = await asyncio.gather(*(detect(app, p) for p in (track, twin, track, twin)))
    assert [status for status, _ in answers] == [200] * 4, answers
    assert all(body == answers[0][1] for _, body in answers)
    assert abs(answers[0][1]["bpm"] - 120) <= 2
    assert runs.decodes_started() == 1, runs.events()


async def test_a_render_cache_hit_completes_while_beat_requests_wait(
    beats_app: Callable[..., Awaitable[App]],
    runs: Runs,
    music: Path,
    clips: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MAX_CONCURRENT_JOBS=1: one analysis holds the slot (its decode gated), two more wait for
    it; a composition rendered before is posted again. When the analysis ends, the cache hit
    goes first and completes while the two analyses still wait (their decodes need a `go` that
    is not given yet); then they all answer."""
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("COUNTING_FFMPEG_GATE", str(gate))
    app = await beats_app()
    document = {"clips": [{"url": (clips / "good.mp4").as_uri()}], "output": {"fps": 10}}
    status, body = await app.post(document)
    assert status == 202, body
    first = await app.finished(body["composition_id"])
    assert first["status"] == "completed", first
    budget = budget_of(app)

    tracks = {bpm: click_track(music, bpm) for bpm in TEMPOS[:3]}
    waiting = {bpm: asyncio.create_task(detect(app, path)) for bpm, path in tracks.items()}

    async def let_through() -> None:
        while not all(task.done() for task in waiting.values()):
            if not (gate / "go").exists():
                (gate / "go").touch()
            await asyncio.sleep(0.02)

    try:
        await until(lambda: runs.decodes_started() == 1 and budget.waiting == (0, 2), "2 wait")
        status, body = await app.post(document)
        assert status == 202, body
        await until(lambda: budget.waiting == (1, 2), "the job waiting for the slot")
        (gate / "go").touch()  # the first analysis decodes and ends: the job is next
        hit = await app.finished(body["composition_id"])
        assert hit["status"] == "completed", hit
        assert sum(task.done() for task in waiting.values()) <= 1  # two still wait for `go`
        assert runs.decodes_started() <= 2
        meta = await app.client.get(f"/api/v1/compositions/{body['composition_id']}/metadata")
        assert (await meta.json())["cache"]["hit"] is True
    finally:
        await asyncio.wait_for(let_through(), 60)
    for bpm, task in waiting.items():
        status, answer = task.result()
        assert status == 200, answer
        assert abs(answer["bpm"] - bpm) <= 2
    assert runs.most_at_once() == 1, runs.events()


class Recording(ThreadPoolExecutor):
    """A default executor that notes who submits to it (the call stack at submit time)."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="recorded-default")
        self.callers: list[list[str]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.callers.append([frame.filename for frame in traceback.extract_stack()])
        return super().submit(fn, *args, **kwargs)


async def test_the_beats_path_never_uses_the_default_executor(
    beats_app: Callable[..., Awaitable[App]], runs: Runs, music: Path
) -> None:
    """Analyses waiting for the slot, a shared one, the tracker and the clean-up, and a cache
    hit: nothing is submitted to the loop's default executor from vidsvc/beats or the route,
    and the tracker's threads are the beats executor's."""
    app = await beats_app()
    recording = Recording()
    asyncio.get_running_loop().set_default_executor(recording)
    one, other = click_track(music, 100), click_track(music, 140)
    answers = await asyncio.gather(*(detect(app, p) for p in (one, other, one, other)))
    answers.append(await detect(app, one))  # from the cache
    assert [status for status, _ in answers] == [200] * 5, answers
    assert runs.decodes_started() == 2
    beats_code = ("/vidsvc/beats/", "/vidsvc/http/beats.py")
    from_beats = [c for c in recording.callers if any(b in f for f in c for b in beats_code)]
    assert from_beats == [], from_beats
    names = {thread.name for thread in threading.enumerate()}
    assert any(name.startswith("vidsvc-beats-track") for name in names), names
