"""The console's list past one page: the newest 50 first, "Show older" for the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.support.browser_pages import row, tiny, until
from tests.support.server import Server
from vidsvc.client import Client

pytestmark = pytest.mark.ffmpeg
PAGE_SIZE = 50  # console.js


@pytest.fixture
def busy(tmp_path: Path, media: dict[str, Path]) -> Iterator[Server]:
    srv = Server(
        tmp_path,
        {
            "ALLOWED_LOCAL_DIRS": str(media["short"].parent),
            "RATE_LIMIT_PER_MINUTE": "0",  # 52 POSTs in a row
            "MAX_CONCURRENT_JOBS": "1",
        },
    )
    srv.start()
    yield srv
    srv.stop()


def rows_on_screen(driver: Any) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "#compositions tbody tr"))


def test_show_older_pages_through_the_list(
    driver: Any, busy: Server, media: dict[str, Path]
) -> None:
    with Client(busy.url) as api:
        ids = [api.submit(tiny(media["short"])).composition_id for _ in range(PAGE_SIZE + 2)]
    driver.get(busy.url + "/")
    until(driver, lambda d: rows_on_screen(d) == PAGE_SIZE)
    assert row(driver, ids[-1]) and not row(driver, ids[0])  # newest first
    older = driver.find_element(By.ID, "older")
    assert older.is_displayed()
    older.click()
    until(driver, lambda d: rows_on_screen(d) == PAGE_SIZE + 2)
    assert row(driver, ids[0]) and row(driver, ids[1])
    until(driver, lambda d: not d.find_element(By.ID, "older").is_displayed())  # no more pages
    listed = [
        r.get_attribute("data-id") for r in driver.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert listed == ids[::-1]  # one list, newest first, each once
