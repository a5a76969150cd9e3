"""`POST /api/v1/compositions?dry_run=true` on the real app (real Runner, SQLite, disk): the plan
of generated clips, nothing stored or rendered, and exactly the error a POST-then-render gives.

The errors are compared with the real thing: the same body is POSTed without dry_run and its
refusal, or its job's failure, is what the dry run must answer (code, status, details.field).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_app import assert_envelope
from tests.support.media import make_video
from tests.support.ports import free_port
from tests.support.real_app import POST, App, clips, make_app
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.http.planbody import CompositionPlanSchema

__all__ = ["clips", "make_app"]
pytestmark = pytest.mark.ffmpeg
DRY = POST + "?dry_run=true"
MakeApp = Callable[..., Awaitable[App]]


@pytest.fixture
def inputs(clips: Path) -> dict[str, Path]:
    """Two generated clips (2 s and 3 s) and a file that is not media, all readable."""
    (clips / "notes.mp4").write_text("not a video at all\n" * 50)
    return {
        "two": make_video(clips / "two.mp4", size="160x90", rate=10, seconds=2, tone=440),
        "three": make_video(clips / "three.mp4", size="160x90", rate=10, seconds=3, tone=None),
        "text": clips / "notes.mp4",
    }


async def dry(app: App, body: Any, query: str = DRY) -> tuple[int, dict[str, Any]]:
    resp = await app.client.post(query, json=body)
    return resp.status, await resp.json()


def scratch_dirs(app: App) -> list[Path]:
    """What is left under TMP_DIR (the runner works under TMP_DIR/jobs/<instance>)."""
    return [p for p in (app.root / "tmp").rglob("*") if p.is_dir() and "-" in p.name]


async def test_the_plan_of_generated_clips(make_app: MakeApp, inputs: dict[str, Path]) -> None:
    app = await make_app(fake="exit:1")  # any FFmpeg run would show in the log (and fail)
    body = {
        "clips": [
            {"url": inputs["two"].as_uri(), "trim_start": 0.5, "trim_end": 1.5},
            {"url": inputs["three"].as_uri(), "transition_in": "crossfade",
             "transition_duration": 0.5},
        ],
        "output": {"resolution": "180p", "fps": 10},
    }  # fmt: skip
    status, answer = await dry(app, body)
    assert status == 200, answer
    assert CompositionPlanSchema().validate(answer) == {}
    plan = answer["plan"]
    assert (plan["duration"], plan["width"], plan["height"], plan["fps"]) == (3.5, 320, 180, 10)
    first, second = plan["clips"]
    assert first == {
        "index": 0,
        "url": inputs["two"].as_uri(),
        "start_time": 0.0,
        "end_time": 1.0,
        "trim_start": 0.5,
        "trim_end": 1.5,
        "transition_in": "cut",
        "transition_duration": 0.0,
        "extended_by": 0.0,
        "extend": None,
        "voiceover": None,
    }
    # no trim given: the probe says 3 s; the crossfade overlaps the first clip by 0.5 s
    assert (second["start_time"], second["end_time"]) == (0.5, 3.5)
    assert (second["trim_start"], second["trim_end"]) == (0.0, 3.0)
    assert (second["transition_in"], second["transition_duration"]) == ("crossfade", 0.5)
    assert plan["renditions"] == [{"aspect_ratio": "16:9", "width": 320, "height": 180}]
    assert plan["warnings"] == []
    assert isinstance(plan["estimated_duration"], float) and plan["estimated_duration"] > 0
    # nothing written, queued, rendered or kept
    assert await app.row_count() == 0
    assert app.renders() == [] and app.blobs() == []
    assert scratch_dirs(app) == []


async def test_the_estimate_is_the_one_a_post_answers(
    make_app: MakeApp, inputs: dict[str, Path]
) -> None:
    app = await make_app(fake="sleep:5")
    body = {"clips": [{"url": inputs["two"].as_uri(), "trim_end": 2}]}
    _, answer = await dry(app, body)
    status, accepted = await app.post(body)
    assert status == 202
    assert answer["plan"]["estimated_duration"] == accepted["estimated_duration"]


def refused_bodies(good: str) -> list[tuple[Any, str, str | None]]:
    """Bodies POST refuses, with the code and the field it names."""
    return [
        ({"clips": "none"}, "VALIDATION_ERROR", "clips"),
        ({"clips": [{"url": good, "trim_start": "x"}]}, "VALIDATION_ERROR", "clips[0].trim_start"),
        ({"clips": [{"url": good, "trim_start": 2, "trim_end": 1}]}, "INVALID_TIMELINE", None),
        ({"clips": [{"url": "ftp://example.com/a.mp4"}]}, "INVALID_CLIP_FORMAT", "clips[0].url"),
        ({"clips": [{"url": "file:///etc/passwd"}]}, "INVALID_CLIP_FORMAT", "clips[0].url"),
        ([1, 2], "VALIDATION_ERROR", None),
    ]


async def test_bad_bodies_are_refused_as_a_post_refuses_them(
    make_app: MakeApp, inputs: dict[str, Path]
) -> None:
    app = await make_app(fake="exit:1")
    for body, code, field in refused_bodies(inputs["two"].as_uri()):
        status, answer = await dry(app, body)
        post_status, post_answer = await app.post(body)
        assert_envelope(answer, code)
        assert status == post_status
        assert answer["error"]["details"] == post_answer["error"]["details"]
        assert answer["error"]["message"] == post_answer["error"]["message"]
        if field is not None:
            assert answer["error"]["details"]["field"] == field, answer
    assert await app.row_count() == 0 and app.renders() == []


async def job_error(app: App, body: Any) -> dict[str, Any]:
    """The error the same body's job fails with."""
    status, accepted = await app.post(body)
    assert status == 202, accepted
    finished = await app.finished(accepted["composition_id"])
    assert finished["status"] == "failed", finished
    error: dict[str, Any] = finished["error"]
    return error


async def test_probe_time_errors_are_the_ones_the_job_fails_with(
    make_app: MakeApp, inputs: dict[str, Path], clips: Path
) -> None:
    app = await make_app()
    two, three = inputs["two"].as_uri(), inputs["three"].as_uri()
    past_the_end = [{"url": two, "trim_end": 1}, {"url": three, "trim_start": 1, "trim_end": 9}]
    cases = [
        ({"clips": [{"url": inputs["text"].as_uri()}]}, "INVALID_CLIP_FORMAT", "clips[0].url"),
        ({"clips": past_the_end}, "INVALID_TIMELINE", "clips[1].trim_end"),
        ({"clips": [{"url": (clips / "gone.mp4").as_uri()}]}, "INPUT_UNAVAILABLE", "clips[0].url"),
    ]
    for body, code, field in cases:
        status, answer = await dry(app, body)
        assert status == 400, answer
        assert_envelope(answer, code)
        assert answer["error"]["details"].get("field") == field, answer
        failed = await job_error(app, body)
        assert (failed["code"], failed["details"].get("field")) == (code, field), failed
    assert scratch_dirs(app) == []


async def test_an_unreachable_input_is_input_unavailable(
    make_app: MakeApp, inputs: dict[str, Path]
) -> None:
    port = free_port()  # nothing listens there
    app = await make_app(fake="exit:1", ALLOWED_URL_HOSTS=f"127.0.0.1:{port}")
    body = {"clips": [{"url": f"http://127.0.0.1:{port}/a.mp4", "trim_end": 1}]}
    status, answer = await dry(app, body)
    assert status == 400
    assert_envelope(answer, "INPUT_UNAVAILABLE")
    assert answer["error"]["details"].get("field") == "clips[0].url", answer
    assert await app.row_count() == 0


async def test_dry_run_takes_true_or_false_only(
    make_app: MakeApp, inputs: dict[str, Path]
) -> None:
    app = await make_app(fake="sleep:5")
    body = {"clips": [{"url": inputs["two"].as_uri(), "trim_end": 1}]}
    for value in ("yes", "1", "True", ""):
        status, answer = await dry(app, body, f"{POST}?dry_run={value}")
        assert status == 400
        assert_envelope(answer, "VALIDATION_ERROR")
        assert answer["error"]["details"]["field"] == "dry_run"
    status, answer = await dry(app, body, f"{POST}?dry_run=false")
    assert status == 202 and answer["status"] == "queued"
    assert await app.row_count() == 1


async def test_the_post_rate_limit_applies(make_app: MakeApp, inputs: dict[str, Path]) -> None:
    app = await make_app(fake="exit:1", RATE_LIMIT_PER_MINUTE="1", RATE_LIMIT_BURST="2")
    body = {"clips": [{"url": inputs["two"].as_uri(), "trim_end": 1}]}
    assert (await dry(app, body))[0] == 200
    assert (await dry(app, body))[0] == 200
    resp = await app.client.post(DRY, json=body)
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert_envelope(await resp.json(), "RATE_LIMITED")


async def test_refused_while_draining(make_app: MakeApp, inputs: dict[str, Path]) -> None:
    app = await make_app(fake="exit:1")
    app.client.app[RUNNER_KEY].begin_drain()
    status, answer = await dry(app, {"clips": [{"url": inputs["two"].as_uri()}]})
    assert status == 503
    assert_envelope(answer, "SERVICE_UNAVAILABLE")
