"""Helpers for the console's browser tests: a tiny spec, waiting, and reading a list row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def tiny(clip: Path, output: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """clip alone, at 180p unless output says otherwise."""
    out = {"resolution": "180p", "fps": 10, "preset": "ultrafast"} | (output or {})
    return {"clips": [{"url": clip.as_uri()}], "output": out, **extra}


def until(driver: Any, check: Callable[[Any], Any], timeout: float = 30) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        check, message=f"timed out; console log: {console_log(driver)}"
    )


def console_log(driver: Any) -> list[str]:
    try:
        return [entry["message"] for entry in driver.get_log("browser")]
    except Exception:  # the log is a diagnosis aid only
        return []


def row(driver: Any, job_id: str) -> Any:
    found = driver.find_elements(By.CSS_SELECTOR, f'tr[data-id="{job_id}"]')
    return found[0] if found else None


def in_row(driver: Any, job_id: str, selector: str) -> Any:
    """The element of job_id's row matching selector, or False (for until)."""
    r = row(driver, job_id)
    found = r.find_elements(By.CSS_SELECTOR, selector) if r is not None else []
    return found[0] if found else False


def text_of(driver: Any, job_id: str, selector: str) -> str:
    r = row(driver, job_id)
    if r is None:
        return ""
    try:
        return str(r.find_element(By.CSS_SELECTOR, selector).text)
    except StaleElementReferenceException:
        return ""
