"""A smart-rendered MP4 (copied GOPs of render-ready clips joined to encoded spans) plays in a
real browser (headless Chromium, through the console's player) across its seams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.support.browser_pages import until
from tests.support.media import make_render_ready
from tests.support.server import Server
from vidsvc.client import Client

pytestmark = pytest.mark.ffmpeg


@pytest.fixture(scope="module")
def spliced(api: Client, media: dict[str, Path]) -> str:
    d = media["short"].parent  # inside ALLOWED_LOCAL_DIRS
    a = make_render_ready(d / "ready-a.mp4", source="testsrc2", tone=440)
    b = make_render_ready(d / "ready-b.mp4", source="testsrc")  # no audio
    spec = {
        "clips": [{"url": a.as_uri(), "trim_end": 4}, {"url": b.as_uri(), "trim_end": 4}],
        "overlays": [{"type": "text", "content": "seam", "start_time": 0.2, "duration": 0.5}],
        "output": {"resolution": "720p", "preset": "veryfast"},
    }
    accepted = api.submit(spec)
    api.wait(accepted.composition_id, timeout=120)
    return accepted.composition_id


def test_the_plan_was_spliced(api: Client, spliced: str) -> None:
    plan = api.metadata(spliced)["smart_render"]
    assert plan["applied"] is True
    assert [s["kind"] for s in plan["spans"]] == ["encode", "copy", "copy"]


def test_it_plays_across_the_seams(driver: Any, live: Server, spliced: str) -> None:
    driver.get(f"{live.url}/#/c/{spliced}")
    video = until(driver, lambda d: d.find_element(By.ID, "player"))
    until(driver, lambda d: d.execute_script("return arguments[0].readyState", video) >= 2)

    def now(d: Any) -> float:
        return float(d.execute_script("return arguments[0].currentTime", video))

    for seam in (1.9, 3.9):  # encode→copy at 2 s, copy→copy (another source) at 4 s
        driver.execute_script(
            "arguments[0].muted = true; arguments[0].currentTime = arguments[1];"
            "arguments[0].play();",
            video,
            seam,
        )
        until(driver, lambda d, s=seam: now(d) > s + 0.3)
    assert driver.execute_script("return arguments[0].error", video) is None
    frames = driver.execute_script(
        "return arguments[0].getVideoPlaybackQuality().totalVideoFrames", video
    )
    assert frames > 0
