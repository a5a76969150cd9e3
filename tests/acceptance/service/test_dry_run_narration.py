"""The dry run's plan of narrated clips (docs/composition.md#narration) on the real app: a clip
as long as its narration (`duration: "voiceover"`) held past its source, the narrations' spans
on the output, the warnings; and the render that follows matches the plan and measures nothing
again (the measurement is cached by the file's bytes)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import assert_envelope
from tests.support.media import ffmpeg, make_video, probe
from tests.support.real_app import POST, App, clips, make_app
from vidsvc.http.planbody import CompositionPlanSchema

__all__ = ["clips", "make_app"]
pytestmark = pytest.mark.ffmpeg
DRY = POST + "?dry_run=true"
MakeApp = Callable[..., Awaitable[App]]


def narration(path: Path, *, speech: float, silence: float) -> Path:
    """`speech` seconds of a tone then `silence` seconds of nothing; a random pitch, so no
    other test's file has these bytes (measurements are cached by bytes, in the process)."""
    tone = f"sine=f={random.randint(300, 900)}:d={speech},apad=pad_dur={silence}"
    ffmpeg("-f", "lavfi", "-i", tone, "-ar", "44100", str(path))
    return path


def silence(path: Path, seconds: float) -> Path:
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", str(seconds), str(path))
    return path


@pytest.fixture
def scene(clips: Path) -> dict[str, str]:
    return {
        "video": make_video(clips / "two.mp4", size="160x90", rate=10, seconds=2).as_uri(),
        "voice": narration(clips / "line.wav", speech=3.0, silence=0.5).as_uri(),
        "mute": silence(clips / "mute.wav", 1.0).as_uri(),
    }


def narrated(scene: dict[str, str]) -> dict[str, Any]:
    """A 2 s video as long as a 3 s narration (+0.25 s padding), then 1 s of the same video
    crossfaded in, narrated after the crossfade and a 0.2 s offset: cut at its end."""
    voice, video = scene["voice"], scene["video"]
    return {
        "clips": [
            {"url": video, "voiceover_url": voice, "duration": "voiceover"},
            {"url": video, "trim_end": 1, "transition_in": "crossfade",
             "transition_duration": 0.5, "voiceover_url": voice, "voiceover_offset": 0.2},
        ],
        "output": {"resolution": "180p", "fps": 10},
    }  # fmt: skip


async def plan_of(app: App, body: Any) -> dict[str, Any]:
    resp = await app.client.post(DRY, json=body)
    answer: dict[str, Any] = await resp.json()
    assert resp.status == 200, answer
    assert CompositionPlanSchema().validate(answer) == {}
    plan: dict[str, Any] = answer["plan"]
    return plan


async def test_a_narrated_clip_is_held_past_its_source(
    make_app: MakeApp, scene: dict[str, str]
) -> None:
    app = await make_app()
    plan = await plan_of(app, narrated(scene))
    first, second = plan["clips"]
    # 3 s audible + 0.25 s padding; the source shows its 2 s, then its last frame is held
    assert (first["start_time"], first["end_time"]) == (0.0, 3.25)
    assert (first["trim_start"], first["trim_end"]) == (0.0, 2.0)
    assert (first["extended_by"], first["extend"]) == (1.25, "hold")
    assert first["voiceover"] == {"start_time": 0.0, "end_time": 3.0, "heard_until": 3.25}
    # crossfaded in at 2.75; its narration starts when the crossfade ends, 0.2 s later
    assert (second["start_time"], second["end_time"], second["extended_by"]) == (2.75, 3.75, 0.0)
    assert second["voiceover"] == {"start_time": 3.45, "end_time": 3.75, "heard_until": 3.75}
    assert plan["duration"] == 3.75
    held, cut = plan["warnings"]
    assert held.startswith("clips[0]") and "1.25 s" in held
    assert cut.startswith("clips[1]") and "cut" in cut
    assert await app.row_count() == 0


async def test_a_silent_narration_is_refused_as_its_job_would_be(
    make_app: MakeApp, scene: dict[str, str]
) -> None:
    app = await make_app()
    body = {"clips": [{"url": scene["video"], "voiceover_url": scene["mute"]}]}
    resp = await app.client.post(DRY, json=body)
    answer = await resp.json()
    assert resp.status == 400
    assert_envelope(answer, "INVALID_CLIP_FORMAT")
    assert answer["error"]["details"]["field"] == "clips[0].voiceover_url"
    status, accepted = await app.post(body)
    assert status == 202
    failed = await app.finished(accepted["composition_id"])
    assert failed["error"]["code"] == "INVALID_CLIP_FORMAT"
    assert failed["error"]["details"]["field"] == "clips[0].voiceover_url"


async def test_the_render_that_follows_matches_the_plan_and_measures_nothing(
    make_app: MakeApp, scene: dict[str, str], tmp_path: Path
) -> None:
    app = await make_app()
    body = narrated(scene)
    plan = await plan_of(app, body)
    status, accepted = await app.post(body)
    assert status == 202
    job_id = accepted["composition_id"]
    done = await app.finished(job_id)
    assert done["status"] == "completed", done
    assert abs(done["duration"] - plan["duration"]) <= 0.1, (done["duration"], plan["duration"])
    meta = await (await app.client.get(f"{POST}/{job_id}/metadata")).json()
    narrations = meta["sound"]["narration"]
    assert narrations["measure_seconds"] == 0  # measured by the dry run: cached by bytes
    assert narrations["warnings"] == plan["warnings"]
    out = tmp_path / "out.mp4"
    resp = await app.client.get(f"{POST}/{job_id}/download")
    out.write_bytes(await resp.read())
    assert abs(float(probe(out)["format"]["duration"]) - plan["duration"]) <= 0.15
