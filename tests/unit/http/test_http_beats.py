"""POST /internal/v1/beat-detection: flag, auth, accuracy on generated music, clear 400s, cache,
and the 503s when busy (the budget itself: tests/acceptance/reliability/test_beats_budget.py).

Real FFmpeg decodes lavfi-made inputs; the tracker runs for real (vidsvc/beats).
"""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.beat_inputs import click_track
from tests.support.http_app import FakeRunner, assert_envelope
from tests.support.media import ffmpeg
from vidsvc.beats import detect as beats
from vidsvc.beats import service
from vidsvc.http.beats import BeatsSchema
from vidsvc.http.keys import BEATS_KEY

pytestmark = pytest.mark.ffmpeg

Client = TestClient[web.Request, web.Application]
URL = "/internal/v1/beat-detection"
TOKEN = "beat-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: A drum loop at 100 BPM: a kick (a falling sine) on each beat, a noise snare on 2 and 4,
#: closed hats (short noise) on the off-beats.
DRUMS = (
    "aevalsrc='0.8*sin(2*PI*(45+120*exp(-mod(t,0.6)*25))*t)*exp(-mod(t,0.6)*9)"
    "+0.35*(random(0)*2-1)*exp(-mod(t+0.6,1.2)*30)"
    "+0.12*(random(1)*2-1)*exp(-mod(t+0.3,0.6)*90)':d=12:s=44100"
)


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("beats")
    click = "aevalsrc='if(lt(mod(t,0.5),0.008),sin(2*PI*1000*t),0)':d=12:s=44100"
    ffmpeg("-f", "lavfi", "-i", click, str(d / "click120.wav"))
    ffmpeg("-f", "lavfi", "-i", DRUMS, "-c:a", "libmp3lame", str(d / "drums100.mp3"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=d=3", str(d / "silent.wav"))
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=8:c=white:a=0.3", str(d / "noise.wav"))
    long_clicks = "aevalsrc='if(lt(mod(t,0.5),0.01),0.8,0)':d=660:s=8000"
    ffmpeg("-f", "lavfi", "-i", long_clicks, "-c:a", "libmp3lame", str(d / "long.mp3"))
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=red:s=64x64:d=2", "-pix_fmt", "yuv420p", str(d / "mute.mp4")
    )
    (d / "notes.txt").write_text("not audio at all\n")
    return {p.stem: p for p in d.iterdir()}


@pytest.fixture
def beat_client(
    app_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path]
) -> Callable[..., Awaitable[Client]]:
    async def make(**env: str) -> Client:
        base = {"ALLOWED_LOCAL_DIRS": str(next(iter(sounds.values())).parent)}
        base |= {"INTERNAL_API_TOKEN": TOKEN, "ENABLE_BEAT_DETECTION": "true"}
        return await app_client(**(base | env))

    return make


async def post(client: Client, path: Path, headers: dict[str, str] = AUTH) -> Any:
    response = await client.post(URL, json={"url": path.as_uri()}, headers=headers)
    body = await response.json()
    return response.status, body.get("error", body)  # the error envelope's inside, or the body


async def test_404_while_disabled_and_401_without_the_token(
    beat_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path]
) -> None:
    off = await beat_client(ENABLE_BEAT_DETECTION="false")
    status, body = await post(off, sounds["click120"])
    assert (status, body["code"]) == (404, "NOT_FOUND")
    assert "ENABLE_BEAT_DETECTION" in body["message"]
    on = await beat_client()
    status, body = await post(on, sounds["click120"], headers={})
    assert (status, body["code"]) == (401, "UNAUTHORIZED")
    status, body = await post(on, sounds["click120"], headers={"Authorization": "Bearer nope"})
    assert status == 401


async def test_a_120_bpm_click_track(
    beat_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path]
) -> None:
    status, body = await post(await beat_client(), sounds["click120"])
    assert status == 200, body
    BeatsSchema().load(body)
    assert abs(body["bpm"] - 120) <= 2
    gaps = [b - a for a, b in zip(body["beats"], body["beats"][1:], strict=False)]
    assert len(gaps) >= 20
    assert all(abs(g - 0.5) < 0.025 for g in gaps), gaps  # 25 ms: two tracker frames
    # on the clicks themselves (every 0.5 s from 0), not merely 0.5 s apart
    assert all(abs(b - round(b * 2) / 2) < 0.02 for b in body["beats"]), body["beats"]
    assert abs(body["duration"] - 12) < 0.1
    assert beats.cached(body["sha256"])


async def test_a_drum_loop_has_a_stable_tempo_and_the_cache_follows_bytes(
    beat_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path], tmp_path: Path
) -> None:
    client = await beat_client()
    status, body = await post(client, sounds["drums100"])
    assert status == 200, body
    assert abs(body["bpm"] - 100) <= 2
    gaps = [b - a for a, b in zip(body["beats"], body["beats"][1:], strict=False)]
    assert len(gaps) >= 15
    assert statistics.pstdev(gaps) < 0.02  # stable: no drift, no half/double jumps
    half = len(gaps) // 2
    assert abs(statistics.mean(gaps[:half]) - statistics.mean(gaps[half:])) < 0.01
    copy = sounds["drums100"].parent / "same-bytes.mp3"
    shutil.copyfile(sounds["drums100"], copy)
    status, again = await post(client, copy)
    assert status == 200
    assert again == body  # same bytes, same answer (from the cache: sha256 is the key)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("silent", "silent"), ("mute", "no audio stream"), ("notes", "not a decodable")],
)
async def test_clear_400_for_what_has_no_beats(
    beat_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path], name: str, reason: str
) -> None:
    status, body = await post(await beat_client(), sounds[name])
    assert status == 400, body
    assert body["code"] == "INVALID_CLIP_FORMAT"
    assert body["details"]["field"] == "url"
    assert reason in body["message"]


async def test_the_url_rules_apply(beat_client: Callable[..., Awaitable[Client]]) -> None:
    client = await beat_client()
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest", "ftp://x/y.mp3"):
        response = await client.post(URL, json={"url": url}, headers=AUTH)
        assert response.status == 400
        assert_envelope(await response.json(), (await response.json())["error"]["code"])
    response = await client.post(URL, json={}, headers=AUTH)
    body = await response.json()
    assert_envelope(body, "VALIDATION_ERROR")
    assert body["error"]["details"]["field"] == "url"


async def test_noise_is_an_answer_without_beats(
    beat_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path]
) -> None:
    status, body = await post(await beat_client(), sounds["noise"])
    assert status == 200, body
    assert body["bpm"] is None
    assert body["beats"] == []


async def test_long_inputs_are_analysed_up_to_the_cap(
    beat_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path]
) -> None:
    status, body = await post(await beat_client(), sounds["long"])
    assert status == 200, body
    assert body["duration"] > 650
    assert body["analyzed_seconds"] == beats.MAX_SECONDS == 600
    assert 599 <= body["beats"][-1] <= 600
    assert abs(body["bpm"] - 120) <= 2


async def test_busy_is_a_503_with_retry_after(
    beat_client: Callable[..., Awaitable[Client]], sounds: dict[str, Path], fake: FakeRunner
) -> None:
    """Too many requests under way: QUEUE_FULL at once; no slot of MAX_CONCURRENT_JOBS within
    the wait limit: SERVICE_UNAVAILABLE; draining: SERVICE_UNAVAILABLE; each with Retry-After."""
    client = await beat_client()
    detector = client.app[BEATS_KEY]
    track = click_track(sounds["click120"].parent, 110)  # bytes of its own: no cache answers

    async def refused(code: str) -> str:
        response = await client.post(URL, json={"url": track.as_uri()}, headers=AUTH)
        assert response.status == 503
        body = await response.json()
        assert_envelope(body, code)
        assert response.headers["Retry-After"] == str(service.RETRY_AFTER_S)
        message: str = body["error"]["message"]
        return message

    detector.max_pending = 0
    assert "under way" in await refused("QUEUE_FULL")
    detector.max_pending, detector.wait_seconds = service.MAX_PENDING, 0.2
    budget = fake.pool.budget
    for _ in range(budget.units):  # renders hold every slot
        await budget.acquire(job=True)
    assert "MAX_CONCURRENT_JOBS" in await refused("SERVICE_UNAVAILABLE")
    for _ in range(budget.units):
        budget.release(job=True)
    fake.draining = True
    assert "shutting down" in await refused("SERVICE_UNAVAILABLE")
    fake.draining = False
    status, body = await post(client, track)
    assert status == 200 and abs(body["bpm"] - 110) <= 2
