"""vidsvc.client's plan() (a dry run) against a real `vidsvc serve`: the typed plan, nothing
stored; the render's error raised with the envelope's code and field; the sync twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.server import Server, tiny
from vidsvc.client import AsyncClient, Client, Plan, VidsvcClientError

pytestmark = pytest.mark.ffmpeg


async def test_plan_answers_the_plan_and_stores_nothing(
    live: Server, clips: dict[str, Path]
) -> None:
    async with AsyncClient(live.url) as api:
        plan = await api.plan(tiny(clips["short"]))
        assert isinstance(plan, Plan)
        assert (plan.duration, plan.width, plan.height, plan.fps) == (1.0, 320, 180, 10)
        assert [(c["start_time"], c["end_time"]) for c in plan.clips] == [(0.0, 1.0)]
        assert plan.warnings == () and plan.estimated_duration is not None
        assert plan.raw["renditions"] == [{"aspect_ratio": "16:9", "width": 320, "height": 180}]
        assert await api.list() == []


async def test_plan_raises_the_error_the_render_would_fail_with(
    live: Server, clips: dict[str, Path]
) -> None:
    spec = {"clips": [{"url": clips["short"].as_uri(), "trim_start": 0.5, "trim_end": 4}]}
    async with AsyncClient(live.url) as api:
        with pytest.raises(VidsvcClientError) as caught:
            await api.plan(spec)
    assert (caught.value.code, caught.value.status) == ("INVALID_TIMELINE", 400)
    assert caught.value.details["field"] == "clips[0].trim_end"


def test_the_sync_client_plans_too(live: Server, clips: dict[str, Path]) -> None:
    with Client(live.url) as api:
        plan = api.plan(tiny(clips["long"], resolution="360p"))
    assert (plan.duration, plan.height) == (8.0, 360)
