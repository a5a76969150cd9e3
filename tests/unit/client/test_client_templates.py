"""vidsvc.client's templates against a real `vidsvc serve`: save, list, read, plan and submit by
template_id (rendered), delete; the refusals raised with the envelope's code; the sync twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server
from vidsvc.client import AsyncClient, Client, Template, VidsvcClientError

pytestmark = pytest.mark.ffmpeg

TEMPLATE: dict[str, Any] = {
    "clips": [{"url": "{{CLIP}}", "trim_end": "{{LENGTH}}"}],
    "output": {"resolution": "180p", "fps": 10, "preset": "ultrafast"},
}


async def test_save_list_plan_submit_and_delete(live: Server, clips: dict[str, Path]) -> None:
    merge = {"CLIP": clips["short"].as_uri(), "LENGTH": 0.5}
    async with AsyncClient(live.url) as api:
        saved = await api.create_template("short", TEMPLATE)
        assert isinstance(saved, Template) and saved.composition is None
        assert saved.template_id.startswith("tmpl_") and saved.placeholders == ("CLIP", "LENGTH")
        assert [t.template_id for t in await api.templates()] == [saved.template_id]
        full = await api.template(saved.template_id)
        assert full.composition == TEMPLATE and full.name == "short"

        plan = await api.plan(template_id=saved.template_id, merge=merge)
        assert plan.duration == 0.5
        job = await api.submit({"cache": False}, template_id=saved.template_id, merge=merge)
        done = await api.wait(job.composition_id, timeout=60)
        assert done.status == "completed"

        await api.delete_template(saved.template_id)
        with pytest.raises(VidsvcClientError) as caught:
            await api.submit(template_id=saved.template_id, merge=merge)
        assert (caught.value.code, caught.value.status) == ("TEMPLATE_NOT_FOUND", 404)
        with pytest.raises(TypeError):
            await api.submit()


def test_the_sync_client_has_templates_too(live: Server, clips: dict[str, Path]) -> None:
    with Client(live.url) as api:
        with pytest.raises(VidsvcClientError) as caught:
            api.create_template("bad", {"clips": [{"url": "{{clip}}"}]})
        assert caught.value.code == "VALIDATION_ERROR"
        assert caught.value.details["field"] == "composition.clips[0].url"
        saved = api.create_template("short", TEMPLATE)
        assert api.template(saved.template_id).placeholders == ("CLIP", "LENGTH")
        with pytest.raises(VidsvcClientError) as caught:
            api.submit(template_id=saved.template_id, merge={"CLIP": clips["short"].as_uri()})
        assert caught.value.details == {"field": "clips[0].trim_end", "placeholder": "LENGTH"}
        assert [t.name for t in api.templates(limit=1)] == ["short"]
        api.delete_template(saved.template_id)
        assert api.templates() == []
