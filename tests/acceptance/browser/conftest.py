"""A real `vidsvc serve` and a headless Debian Chromium driven by selenium, shared by the module.

Under CI=true a missing browser or driver fails the tests (never skips): `make install`
installs chromium and chromium-driver from Debian. Selenium is given both paths, so it never
tries to download a browser or a driver.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.media import make_video
from tests.support.server import Server
from vidsvc.client import Client

#: Chromium as root in a container: no sandbox, no GPU, nothing phoning home.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
    "--window-size=1280,800",
)


def _tools() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    message = "chromium and chromedriver are needed (make install: chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    browser, chromedriver = _tools()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Clips in <dir>/media and, in <dir>, a sample spec naming one by relative path."""
    d = tmp_path_factory.mktemp("browser-media")
    (d / "media").mkdir()
    sample = {
        "clips": [{"url": "media/short.mp4"}],
        "output": {"resolution": "180p", "fps": 10, "preset": "ultrafast"},
    }
    (d / "tiny_sample.json").write_text(json.dumps(sample))
    return {
        "short": make_video(d / "media" / "short.mp4", size="320x180", seconds=2.0),
        "long": make_video(d / "media" / "long.mp4", size="640x360", rate=30, seconds=6.0),
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, media: dict[str, Path]) -> Iterator[Server]:
    srv = Server(
        tmp_path_factory.mktemp("browser-server"),
        {
            "ALLOWED_LOCAL_DIRS": str(media["short"].parent),
            "CONSOLE_SAMPLES_DIR": str(media["short"].parent.parent),
            "MAX_CONCURRENT_JOBS": "1",
        },
    )
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api(live: Server) -> Iterator[Client]:
    with Client(live.url) as client:
        yield client
