"""/docs and /redoc: the vendored Swagger UI (≥ 4.1.3, CVE-2021-46708), its start-up, the CSP.

The browser half (the pages render under their policy, `?url=` shows nothing else) is
tests/acceptance/browser/test_docs_pages.py.
"""

from __future__ import annotations

import re

import pytest

from tests.support.http_app import Client

#: Swagger UI 4.1.3 is the first release that ignores ?url= and ?configUrl= by default.
FIXED_IN = (4, 1, 3)


async def test_the_served_swagger_ui_is_at_least_4_1_3(client: Client) -> None:
    page = await (await client.get("/docs")).text()
    script = re.search(r'src="([^"]+swagger-ui-bundle\.js)"', page)
    assert script is not None, page
    bundle = await (await client.get(script.group(1))).text()
    found = re.search(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', bundle)
    assert found is not None, "no version in the bundle"
    assert tuple(int(part) for part in found.groups()) >= FIXED_IN, found.group(0)
    assert len(bundle) > 1_000_000  # the real bundle, not a stub


async def test_swagger_ui_starts_with_query_config_off_and_no_validator(client: Client) -> None:
    page = await (await client.get("/docs")).text()
    init = re.search(r'src="([^"]+swagger-init\.js)"', page)
    assert init is not None, page
    script = await (await client.get(init.group(1))).text()
    assert "queryConfigEnabled: false" in script and "validatorUrl: null" in script
    assert "url: root.dataset.specUrl" in script


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_pages_carry_a_policy_and_no_inline_script(client: Client, path: str) -> None:
    resp = await client.get(path)
    page = await resp.text()
    header = resp.headers["Content-Security-Policy"]
    policy = dict(directive.strip().split(" ", 1) for directive in header.split(";"))
    assert policy["default-src"] == policy["script-src"] == policy["connect-src"] == "'self'"
    assert policy["object-src"] == policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "http" not in header  # no other origin anywhere
    if path == "/docs":
        assert policy["style-src"] == "'self'"  # Swagger UI needs no inline style either
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert not re.search(r"\son\w+=", page)  # no inline event handlers
