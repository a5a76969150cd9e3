"""The console in a real browser (headless Chromium) against a real `vidsvc serve`.

List with thumbnail and duration, the player playing, progress moving during a render,
hostile strings shown literally, cancel. The last test takes the README's screenshot
(docs/console.png when UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.support.browser_pages import console_log, in_row, row, text_of, tiny, until
from tests.support.server import Server
from vidsvc.client import Client, CompositionFailed

pytestmark = pytest.mark.ffmpeg
SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "console.png"
HOSTILE = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> "dq" \'sq\' &amp;'
)


@pytest.fixture(scope="module")
def finished(api: Client, media: dict[str, Path]) -> str:
    accepted = api.submit(tiny(media["short"]))
    api.wait(accepted.composition_id, timeout=60)
    return accepted.composition_id


def test_the_list_shows_a_finished_job_with_its_thumbnail(
    driver: Any, live: Server, finished: str
) -> None:
    driver.get(live.url + "/#/")
    until(driver, lambda d: text_of(d, finished, ".status") == "COMPLETED")
    img = until(driver, lambda d: in_row(d, finished, "img.thumb"))
    until(driver, lambda d: d.execute_script("return arguments[0].naturalWidth", img) > 0)
    assert driver.execute_script("return arguments[0].naturalHeight", img) > 0
    assert text_of(driver, finished, ".duration") == "2.0 s"
    assert "100%" in text_of(driver, finished, ".progress-text")
    assert not row(driver, finished).find_elements(By.CSS_SELECTOR, "button.cancel")
    assert not [m for m in console_log(driver) if "Content Security Policy" in m]


def test_the_player_plays(driver: Any, live: Server, finished: str) -> None:
    driver.get(f"{live.url}/#/c/{finished}")
    video = until(driver, lambda d: d.find_element(By.ID, "player"))
    until(driver, lambda d: d.execute_script("return arguments[0].readyState", video) >= 2)
    driver.execute_script("arguments[0].muted = true; arguments[0].play();", video)
    start = driver.execute_script("return arguments[0].currentTime", video)
    until(driver, lambda d: d.execute_script("return arguments[0].currentTime", video) > start)
    # the detail view: metadata and the request as sent
    until(driver, lambda d: "ffmpeg" in d.find_element(By.ID, "meta-command").text)
    assert "encoding" in driver.find_element(By.ID, "timings").text
    assert "short.mp4" in driver.find_element(By.ID, "request-json").text


def test_an_animated_image_in_two_shapes_shows_and_links_each(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    shapes = [{"aspect_ratio": "16:9"}, {"aspect_ratio": "9:16"}]
    document = tiny(media["short"], {"format": "gif", "width": 160, "renditions": shapes})
    del document["output"]["preset"]  # x264's: a gif refuses it
    job = api.submit(document).composition_id
    api.wait(job, timeout=60)
    driver.get(f"{live.url}/#/c/{job}")
    image = until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "img#player"))
    until(driver, lambda d: d.execute_script("return arguments[0].naturalWidth", image) == 160)
    links = until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#downloads a.rendition"))
    assert [a.text for a in links] == ["Download GIF 160x90", "Download GIF 160x284"]
    assert links[1].get_attribute("href").endswith(f"/{job}/download?rendition=1")
    assert links[1].get_attribute("download") == f"{job}-1.gif"


def test_hostile_strings_are_shown_literally(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    overlay = {"type": "text", "content": HOSTILE, "start_time": 0, "duration": 1}
    job = api.submit(tiny(media["short"], user_id=HOSTILE, overlays=[overlay])).composition_id
    driver.get(live.url + "/#/")
    until(driver, lambda d: text_of(d, job, ".user") == HOSTILE)
    assert not row(driver, job).find_elements(By.CSS_SELECTOR, ".user *")  # text, no elements
    driver.get(f"{live.url}/#/c/{job}")
    until(driver, lambda d: HOSTILE[:20] in d.find_element(By.ID, "request-json").text)
    shown = driver.execute_script(
        "return JSON.parse(document.getElementById('request-json').textContent)"
    )
    assert shown["user_id"] == HOSTILE and shown["overlays"][0]["content"] == HOSTILE
    assert driver.execute_script("return window.__pwned") is None
    assert not driver.find_elements(By.CSS_SELECTOR, "main script, main img[src='x']")
    api.wait(job, timeout=60)


def test_cancel_works_and_progress_moves_during_a_render(
    driver: Any, live: Server, api: Client, media: dict[str, Path]
) -> None:
    """MAX_CONCURRENT_JOBS=1: `first` renders (slowly) while `second` waits, so both rows are
    on screen before anything of `second` happens. Cancel `first` from its row; then watch
    `second`'s bar move through its render."""
    first = api.submit(
        tiny(media["long"], output={"resolution": "720p", "fps": 30, "preset": "slow"})
    )
    second = api.submit(
        tiny(media["long"], output={"resolution": "720p", "fps": 30, "preset": "medium"})
    )
    a, b = first.composition_id, second.composition_id
    driver.get(live.url + "/#/")
    until(driver, lambda d: text_of(d, b, ".status") == "QUEUED")
    until(driver, lambda d: in_row(d, a, "button.cancel")).click()
    until(driver, lambda d: text_of(d, a, ".status") == "CANCELLED", timeout=60)
    assert not in_row(driver, a, "button.cancel")
    with pytest.raises(CompositionFailed) as ended:
        api.wait(a, timeout=30)
    assert ended.value.code == "CANCELLED"

    seen: list[float] = []
    texts: set[str] = set()
    status = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and status not in ("COMPLETED", "FAILED", "CANCELLED"):
        try:
            # the status first: once it reads COMPLETED, the bar read after it shows the end
            status = text_of(driver, b, ".status")
            bar = in_row(driver, b, "progress")
            value = float(bar.get_attribute("value")) if bar else None
            texts.add(text_of(driver, b, ".progress-text"))
        except StaleElementReferenceException:
            continue
        if value is not None and (not seen or value != seen[-1]):
            seen.append(value)
        time.sleep(0.05)
    assert status == "COMPLETED", (status, seen)
    middle = [v for v in seen if 0 < v < 100]
    assert len(middle) >= 2, seen  # the bar moved through the render, not just 0 then 100
    assert seen == sorted(seen) and seen[-1] == 100, seen
    assert any("encoding" in t and "ETA" in t for t in texts), (
        texts
    )  # e.g. "47% · encoding · ETA 2 s"


def test_the_playground_renders_a_sample(
    driver: Any, live: Server, media: dict[str, Path]
) -> None:
    driver.get(live.url + "/#/play")
    editor = until(driver, lambda d: d.find_element(By.ID, "spec-editor"))
    until(driver, lambda d: "short.mp4" in editor.get_attribute("value"))
    assert (media["short"]).as_uri() in editor.get_attribute("value")  # rewritten to file://
    assert driver.find_element(By.ID, "sample-select").get_attribute("value") == "tiny_sample"
    driver.find_element(By.ID, "submit").click()
    player = until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#play-player video"), 60)
    until(driver, lambda d: d.execute_script("return arguments[0].readyState", player[0]) >= 2)
    assert driver.find_element(By.ID, "play-progress").get_attribute("value") == "100"
    # a body the server refuses shows its error code, not a crash
    editor.clear()
    editor.send_keys('{"clips": "none"}')
    driver.find_element(By.ID, "submit").click()
    error = until(driver, lambda d: d.find_element(By.ID, "play-error"))
    assert error.text.startswith("VALIDATION_ERROR: ")


def test_screenshot(driver: Any, live: Server, tmp_path: Path) -> None:
    """The list as a user sees it after the tests above; saved for the README on request."""
    driver.get(live.url + "/#/")
    until(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "img.thumb")) >= 3)
    until(
        driver,
        lambda d: all(
            d.execute_script("return arguments[0].naturalWidth", i) > 0
            for i in d.find_elements(By.CSS_SELECTOR, "img.thumb")
        ),
    )
    shot = tmp_path / "console.png"
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, SCREENSHOT)


def test_redoc_renders_without_the_network(driver: Any, live: Server) -> None:
    """The browser reaches nothing but this server (no route out in the test machine either
    way): ReDoc must come from the app and draw the document's operations."""
    driver.get(live.url + "/redoc")
    until(driver, lambda d: "Validate and enqueue a composition" in d.page_source)
    scripts = driver.execute_script(
        "return Array.from(document.scripts).map(s => s.src).filter(Boolean)"
    )
    assert scripts and all(s.startswith(live.url + "/") for s in scripts), scripts
    assert driver.find_elements(By.CSS_SELECTOR, "h1"), "ReDoc drew no title"
