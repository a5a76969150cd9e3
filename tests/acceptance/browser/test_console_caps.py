"""The list under the server's WebSocket cap: refused sockets are not retried hot.

WS_MAX_CONN_PER_IP=2 and five running or queued compositions on screen: three sockets are
refused, and the page waits (SOCKET_RETRY_MS) before trying again instead of looping; the
server's access log counts every upgrade attempt.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser_pages import text_of, tiny, until
from tests.support.server import Server
from vidsvc.client import Client, VidsvcClientError

pytestmark = pytest.mark.ffmpeg
WATCH_SECONDS = 6.0


@pytest.fixture
def capped(tmp_path: Path, media: dict[str, Path]) -> Iterator[Server]:
    srv = Server(
        tmp_path,
        {
            "ALLOWED_LOCAL_DIRS": str(media["short"].parent),
            "MAX_CONCURRENT_JOBS": "1",
            "WS_MAX_CONN_PER_IP": "2",
            "LOG_LEVEL": "INFO",  # one access line per request, upgrades included
        },
    )
    srv.start()
    yield srv
    srv.stop()


def test_refused_sockets_are_not_retried_hot(
    driver: Any, capped: Server, media: dict[str, Path]
) -> None:
    with Client(capped.url) as api:
        slow = tiny(media["long"], output={"resolution": "720p", "fps": 30, "preset": "slow"})
        ids = [api.submit(slow).composition_id]
        ids += [api.submit(tiny(media["short"])).composition_id for _ in range(4)]
        driver.get(capped.url + "/#/")
        for job in ids[1:]:
            until(driver, lambda d, job=job: text_of(d, job, ".status") == "QUEUED")
        time.sleep(WATCH_SECONDS)
        log = capped.log.read_text()
        attempts = log.count("GET /ws/compositions/")
        driver.get("about:blank")
        for job in ids:
            try:
                api.cancel(job)
            except VidsvcClientError:
                pass  # already finished
    # 5 first attempts, then each of the 3 refused at most once per 5 s (+ slack for timing);
    # a hot retry loop makes hundreds in the same time.
    assert 5 <= attempts <= 20, attempts
