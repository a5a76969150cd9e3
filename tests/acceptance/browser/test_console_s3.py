"""The console on a server that stores outputs in S3: downloads redirect to presigned URLs on
the bucket's origin, which the page's Content-Security-Policy must allow for the thumbnail and
the player (and only that origin besides its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from selenium.webdriver.common.by import By

from tests.support.browser_pages import in_row, tiny, until
from tests.support.s3_server import S3Bucket
from tests.support.server import Server
from vidsvc.client import Client

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
def on_s3(tmp_path: Path, media: dict[str, Path], s3_bucket: S3Bucket) -> Iterator[Server]:
    srv = Server(
        tmp_path,
        {"ALLOWED_LOCAL_DIRS": str(media["short"].parent), **s3_bucket.env()},
    )
    srv.start()
    yield srv
    srv.stop()


def test_thumbnail_and_player_load_from_the_bucket(
    driver: Any, on_s3: Server, media: dict[str, Path], s3_bucket: S3Bucket
) -> None:
    with Client(on_s3.url) as api:
        job = api.submit(tiny(media["short"])).composition_id
        api.wait(job, timeout=60)
    assert any(key.endswith(".mp4") for key in s3_bucket.keys())  # the output is in S3
    driver.get(on_s3.url + "/")
    thumb = until(driver, lambda d: in_row(d, job, "img.thumb"))
    until(driver, lambda d: d.execute_script("return arguments[0].naturalWidth", thumb) > 0)
    driver.get(f"{on_s3.url}/#/c/{job}")
    video = until(driver, lambda d: d.find_element(By.ID, "player"))
    until(driver, lambda d: d.execute_script("return arguments[0].readyState", video) >= 2)
    assert driver.execute_script("return arguments[0].error", video) is None
    with urlopen(on_s3.url + "/") as page:  # the bucket's origin, and no other, is allowed
        policy = page.headers["Content-Security-Policy"]
    origin = s3_bucket.endpoint.url.rstrip("/")
    assert f"img-src 'self' {origin};" in policy and f"media-src 'self' {origin};" in policy
    assert "default-src 'self';" in policy and "connect-src 'self';" in policy
