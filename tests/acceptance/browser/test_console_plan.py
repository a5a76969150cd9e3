"""The playground's Plan button in a real browser (headless Chromium) against a real `vidsvc
serve`: a dry run of the editor's JSON shows the plan (a row per clip, the warnings, length
and estimate) and creates no composition; the render's errors show as the Render button's do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.support.browser_pages import console_log, until
from tests.support.server import Server
from vidsvc.client import Client

pytestmark = pytest.mark.ffmpeg


def set_spec(driver: Any, document: dict[str, Any]) -> None:
    editor = driver.find_element(By.ID, "spec-editor")
    editor.clear()
    editor.send_keys(json.dumps(document))


def test_the_plan_button_shows_the_plan_and_renders_nothing(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    before = len(api.list(limit=100))
    driver.get(live.url + "/#/play")
    editor = until(driver, lambda d: d.find_element(By.ID, "spec-editor"))
    until(driver, lambda d: "short.mp4" in editor.get_attribute("value"))  # the tiny sample
    short = media["short"].as_uri()
    set_spec(
        driver,
        {
            "clips": [
                {"url": short, "trim_end": 1.5},
                {"url": short, "trim_start": 0.5, "transition_in": "crossfade",
                 "transition_duration": 0.25},
            ],
            "output": {"resolution": "180p", "fps": 10},
        },
    )  # fmt: skip
    driver.find_element(By.ID, "plan").click()
    table = until(driver, lambda d: d.find_elements(By.ID, "plan-table"))[0]
    rows = [
        [cell.text for cell in tr.find_elements(By.TAG_NAME, "td")]
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert rows == [
        ["0: short.mp4", "0 s", "1.5 s", "", ""],
        ["1: short.mp4", "1.25 s", "2.75 s", "", ""],
    ], rows
    summary = driver.find_element(By.ID, "plan-summary").text
    assert summary.startswith("2.75 s at 320x180, 10 fps, rendered in about "), summary
    assert driver.find_elements(By.CSS_SELECTOR, "#plan-warnings li") == []
    assert len(api.list(limit=100)) == before  # a dry run stores nothing

    # an error only the probe can find shows as the render's errors do, field and all
    set_spec(driver, {"clips": [{"url": short, "trim_end": 9}]})
    driver.find_element(By.ID, "plan").click()
    error = until(driver, lambda d: d.find_element(By.ID, "play-error"))
    assert error.text.startswith("INVALID_TIMELINE: clips[0].trim_end"), error.text
    assert driver.find_element(By.ID, "plan").is_enabled()
    assert not [m for m in console_log(driver) if "Content Security Policy" in m]
