"""The playground's Preview button and the composition page's metadata in a real browser
(headless Chromium) against a real `vidsvc serve`: Preview renders a draft of the chosen range
of the editor's composition and plays it (its length the range's, its size the draft's);
scrubbing a video moves the range's start around the scrubbed point; an error shows as
Render's do; a composition's `metadata` shows, as text, on its page."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.support.browser_pages import console_log, tiny, until
from tests.support.server import Server
from vidsvc.client import Client

pytestmark = pytest.mark.ffmpeg


def set_spec(driver: Any, document: dict[str, Any]) -> None:
    editor = driver.find_element(By.ID, "spec-editor")
    editor.clear()
    editor.send_keys(json.dumps(document))


def playground(driver: Any, live: Server) -> None:
    """A fresh playground with the tiny sample in the editor (a reload: a get() of the URL on
    screen would only move to its fragment, keeping the last test's page)."""
    driver.get(live.url + "/#/play")
    driver.refresh()
    editor = until(driver, lambda d: d.find_element(By.ID, "spec-editor"))
    until(driver, lambda d: "short.mp4" in editor.get_attribute("value"))


def request_of(live: Server, composition_id: str) -> Any:
    """The composition as the console sent it (GET …/{id}/request)."""
    url = f"{live.url}/api/v1/compositions/{composition_id}/request"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


def prop(driver: Any, element: Any, name: str) -> Any:
    return driver.execute_script(f"return arguments[0].{name}", element)


def test_preview_plays_a_draft_of_the_range(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    playground(driver, live)
    long = media["long"].as_uri()  # 6 s of 640x360: the composition is 12 s at 1280x720
    title = {"type": "text", "content": "preview", "start_time": 0, "duration": 12}
    set_spec(driver, {"clips": [{"url": long}, {"url": long}], "overlays": [title]})
    start = driver.find_element(By.ID, "preview-start")
    assert start.get_attribute("value") == "0"  # no video scrubbed yet: the range starts at 0
    start.clear()
    start.send_keys("3")
    driver.find_element(By.ID, "preview").click()

    # the length comes from a dry run: the slider then spans the composition
    slider = until(driver, lambda d: d.find_element(By.ID, "preview-slider"))
    until(driver, lambda d: slider.is_displayed())
    assert slider.get_attribute("max") == "12"
    assert driver.find_element(By.ID, "preview-total").text == "of 12 s"

    video = until(driver, lambda d: d.find_element(By.ID, "preview-video"), timeout=90)
    until(driver, lambda d: prop(d, video, "readyState") >= 2)
    assert prop(driver, video, "duration") == pytest.approx(5.0, abs=0.15)
    assert (prop(driver, video, "videoWidth"), prop(driver, video, "videoHeight")) == (640, 360)
    until(driver, lambda d: prop(d, video, "currentTime") > 0)  # it plays by itself

    job = api.list(limit=1)[0]
    assert job.status == "completed"
    sent = request_of(live, job.composition_id)
    assert sent["output"] == {"draft": True, "range": {"start": 3, "duration": 5}}
    assert sent["clips"] == [{"url": long}, {"url": long}]
    assert driver.find_element(By.ID, "preview").is_enabled()

    # scrubbing the preview to its 4 s (the timeline's 7 s) centres the next 5 s there: 4.5 s
    driver.execute_script("arguments[0].pause(); arguments[0].currentTime = 4;", video)
    until(driver, lambda d: d.find_element(By.ID, "preview-start").get_attribute("value") == "4.5")
    assert driver.find_element(By.ID, "preview-slider").get_attribute("value") == "4.5"
    assert not [m for m in console_log(driver) if "Content Security Policy" in m]


def test_preview_of_a_start_past_the_end_is_the_last_seconds(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    playground(driver, live)
    set_spec(driver, {"clips": [{"url": media["long"].as_uri()}]})  # 6 s
    driver.find_element(By.ID, "plan").click()  # the plan tells the length: no second dry run
    until(driver, lambda d: d.find_elements(By.ID, "plan-table"))
    assert driver.find_element(By.ID, "preview-slider").get_attribute("max") == "6"
    start = driver.find_element(By.ID, "preview-start")
    start.clear()
    start.send_keys("40")
    duration = driver.find_element(By.ID, "preview-duration")
    duration.clear()
    duration.send_keys("2")
    driver.find_element(By.ID, "preview").click()
    video = until(driver, lambda d: d.find_element(By.ID, "preview-video"), timeout=90)
    until(driver, lambda d: prop(d, video, "readyState") >= 1)
    assert prop(driver, video, "duration") == pytest.approx(2.0, abs=0.15)
    sent = request_of(live, api.list(limit=1)[0].composition_id)
    assert sent["output"] == {"draft": True, "range": {"start": 4, "duration": 2}}


def test_a_preview_error_shows_as_the_renders_do(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    before = len(api.list(limit=100))
    playground(driver, live)
    set_spec(driver, {"clips": [{"url": media["short"].as_uri(), "trim_end": 9}]})
    driver.find_element(By.ID, "preview").click()
    error = until(driver, lambda d: d.find_element(By.ID, "play-error"))
    assert error.text.startswith("INVALID_TIMELINE: clips[0].trim_end"), error.text
    assert driver.find_element(By.ID, "preview").is_enabled()
    assert len(api.list(limit=100)) == before  # the dry run refused it: nothing was queued


def test_the_composition_page_shows_its_metadata(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    metadata = {"project": "<b>p-42</b>", "scene_ids": [1, 2], "note": "<script>x()</script>"}
    job = api.submit(tiny(media["short"], metadata=metadata)).composition_id
    driver.get(f"{live.url}/#/c/{job}")
    shown = until(driver, lambda d: d.find_element(By.ID, "detail-metadata"))
    assert json.loads(shown.get_attribute("textContent")) == metadata
    assert not driver.find_elements(By.CSS_SELECTOR, "#client-metadata b, #client-metadata script")

    plain = api.submit(tiny(media["short"])).composition_id  # no metadata: no section
    driver.get(f"{live.url}/#/c/{plain}")
    until(driver, lambda d: d.find_element(By.ID, "detail-status").text)
    assert not driver.find_elements(By.ID, "detail-metadata")
    assert not [m for m in console_log(driver) if "Content Security Policy" in m]
