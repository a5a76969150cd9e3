"""The playground's templates in a real browser (headless Chromium) against a real `vidsvc
serve`: a saved template is listed, "Use template" shows a form of its placeholders that writes
the request by template_id into the editor, and Render renders it; the editor's composition is
saved as a template; nothing breaks the page's CSP."""

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

TEMPLATE: dict[str, Any] = {
    "clips": [{"url": "{{CLIP}}", "trim_end": "{{LENGTH}}"}],
    "overlays": [{"type": "text", "content": "Hi {{NAME}}", "start_time": 0, "duration": 1}],
    "output": {"resolution": "180p", "fps": 10, "preset": "ultrafast"},
}


def editor_json(driver: Any) -> Any:
    return json.loads(driver.find_element(By.ID, "spec-editor").get_attribute("value"))


def test_use_a_template_fill_its_placeholders_and_render(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    saved = api.create_template("<b>promo</b> & co", TEMPLATE)
    driver.get(live.url + "/#/play")
    option = f'#template-select option[value="{saved.template_id}"]'
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, option))
    shown = driver.find_element(By.CSS_SELECTOR, option).text
    assert shown == "<b>promo</b> & co (CLIP, LENGTH, NAME)"  # as text, never as markup
    driver.find_element(By.ID, "template-use").click()
    until(driver, lambda d: d.find_elements(By.ID, "merge-CLIP"))
    driver.find_element(By.ID, "merge-CLIP").send_keys(media["short"].as_uri())
    driver.find_element(By.ID, "merge-LENGTH").send_keys("1.5")
    driver.find_element(By.ID, "merge-NAME").send_keys("Ada")
    assert editor_json(driver) == {
        "template_id": saved.template_id,
        "merge": {"CLIP": media["short"].as_uri(), "LENGTH": 1.5, "NAME": "Ada"},
    }
    composition = driver.find_element(By.ID, "template-composition").get_attribute("textContent")
    assert json.loads(composition) == TEMPLATE

    driver.find_element(By.ID, "submit").click()
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#play-player video"), timeout=60)
    job = api.list(limit=1)[0]
    assert job.status == "completed"
    meta = api.metadata(job.composition_id)
    assert meta["output"]["duration"] == pytest.approx(1.5, abs=0.15)
    assert not [m for m in console_log(driver) if "Content Security Policy" in m]


def test_save_the_editors_composition_as_a_template(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    driver.get(live.url + "/#/play")
    editor = until(driver, lambda d: d.find_element(By.ID, "spec-editor"))
    until(driver, lambda d: "short.mp4" in editor.get_attribute("value"))  # the tiny sample
    editor.clear()
    editor.send_keys(json.dumps({"clips": [{"url": "{{clip}}"}]}))
    driver.find_element(By.ID, "template-name").send_keys("from the editor")
    driver.find_element(By.ID, "template-save").click()
    error = until(driver, lambda d: d.find_element(By.ID, "play-error"))
    assert error.text.startswith("VALIDATION_ERROR: composition.clips[0].url"), error.text

    editor.clear()
    editor.send_keys(json.dumps({"clips": [{"url": "{{CLIP}}", "volume": "{{VOLUME}}"}]}))
    driver.find_element(By.ID, "template-save").click()
    saved = until(driver, lambda d: d.find_element(By.ID, "template-saved"))
    assert "placeholders: CLIP, VOLUME" in saved.text
    found = [t for t in api.templates() if t.name == "from the editor"]
    assert len(found) == 1 and found[0].placeholders == ("CLIP", "VOLUME")
    selected = driver.find_element(By.ID, "template-select").get_attribute("value")
    assert selected == found[0].template_id
    assert not [m for m in console_log(driver) if "Content Security Policy" in m]
