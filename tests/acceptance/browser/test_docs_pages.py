"""/docs and /redoc in a real browser (headless Chromium) against a real `vidsvc serve`.

Swagger UI must show this service's own API whatever the address bar says (`?url=` and
`?configUrl=` were CVE-2021-46708 in the 4.1.0 aiohttp-apispec ships), fetch from no other
origin, and both pages must render under their Content-Security-Policy with no violation in
the browser's log (a violation would mean the page needs something the policy refuses).
"""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.support.browser_pages import console_log, until
from tests.support.server import Server

EVIL = "https://evil.example"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
QUERIES = [
    "",
    f"?url={EVIL}/x.json",
    f"?configUrl={EVIL}/config.json",
    f"?url={EVIL}/x.json&configUrl={EVIL}/config.json&urls.primaryName=evil",
]


def _title(driver: Any) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, ".information-container .title")
    return str(found[0].text) if found else ""


def _requests(driver: Any) -> list[str]:
    """Every resource the page fetched or tried to (Resource Timing lists other origins too)."""
    names: list[str] = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return names


def _problems(log: list[str]) -> list[str]:
    words = ("Content Security Policy", "Content-Security-Policy", "evil.example")
    return [line for line in log if any(word in line for word in words)]


@pytest.mark.parametrize("query", QUERIES)
def test_swagger_ui_shows_only_this_services_api(driver: Any, live: Server, query: str) -> None:
    console_log(driver)  # reading the log empties it: what follows is this page's
    driver.get(f"{live.url}/docs{query}")
    title = until(driver, _title)
    assert title.startswith("vidsvc"), title
    until(driver, lambda d: "Validate and enqueue a composition" in d.page_source)
    requests = _requests(driver)
    assert requests and all(r.startswith(live.url + "/") for r in requests), requests
    assert any(r.endswith("/api/docs/openapi.json") for r in requests), requests
    log = console_log(driver)
    assert not _problems(log), log


def test_redoc_renders_under_its_policy(driver: Any, live: Server) -> None:
    """ReDoc 2.1.5 always draws an <img> of its logo from cdn.redoc.ly (it hides it on error):
    the policy refuses it, so that is the one violation allowed, and it never left the browser."""
    console_log(driver)
    driver.get(f"{live.url}/redoc?url={EVIL}/x.json")
    until(driver, lambda d: "Validate and enqueue a composition" in d.page_source)
    heading = driver.find_elements(By.CSS_SELECTOR, "h1")
    assert heading and heading[0].text.startswith("vidsvc"), [h.text for h in heading]
    requests = [r for r in _requests(driver) if r != REDOC_LOGO]
    assert requests and all(r.startswith(live.url + "/") for r in requests), requests
    log = console_log(driver)
    refused_logo = f"Loading the image '{REDOC_LOGO}' violates"
    assert not [line for line in _problems(log) if refused_logo not in line], log
    assert not driver.execute_script(
        "return Array.from(document.images).filter(i => i.src.includes('redoc.ly')).length"
    ), "the refused logo is still drawn"
