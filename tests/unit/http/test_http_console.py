"""The console's HTTP surface: the page and its files with a same-origin CSP, ENABLE_CONSOLE,
the playground's samples (only those that render here), and the request-JSON route.
The page's behaviour in a browser is tests/acceptance/browser."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.http_app import DOC, Client, assert_envelope, submit
from vidsvc.http import console

AppClient = Callable[..., Awaitable[Client]]


async def test_the_page_and_its_files_carry_a_same_origin_policy(client: Client) -> None:
    resp = await client.get("/")
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    refs = re.findall(r'(?:src|href)="([^"#]*)"', page)
    assert all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert "<script>" not in page  # no inline script: the CSP would refuse it anyway
    for name, kind in console.FILES.items():
        resp = await client.get(f"/console/{name}")
        assert resp.status == 200 and resp.content_type == kind
        assert resp.headers["Content-Security-Policy"] == csp
    assert (await client.get("/console/index.html.bak")).status == 404
    assert (await client.get("/console/..%2fconsole.py")).status == 404


def test_the_script_never_writes_html() -> None:
    """Every string reaches the page as a text node (el() in console.js), in every script."""
    scripts = [name for name in console.FILES if name.endswith(".js")]
    assert scripts == ["console.js", "templates.js", "outputs.js"]
    for name in scripts:
        source = (console.STATIC / name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source.replace("never innerHTML", ""), (name, sink)


async def test_console_off_is_a_404(app_client: AppClient) -> None:
    client = await app_client(ENABLE_CONSOLE="false")
    for path in ("/", "/console/console.js", "/console/samples"):
        resp = await client.get(path)
        assert resp.status == 404, path
        assert_envelope(await resp.json(), "NOT_FOUND")


async def test_samples_offer_only_what_renders_here(app_client: AppClient, tmp_path: Path) -> None:
    specs, media, elsewhere = tmp_path / "specs", tmp_path / "specs" / "media", tmp_path / "other"
    media.mkdir(parents=True)
    elsewhere.mkdir()
    (media / "a.mp4").write_bytes(b"x")
    (elsewhere / "b.mp4").write_bytes(b"x")
    good = {"clips": [{"url": "media/a.mp4"}], "audio": {"music_url": "media/a.mp4"}}
    (specs / "good.json").write_text(json.dumps(good))
    (specs / "missing.json").write_text(json.dumps({"clips": [{"url": "media/nope.mp4"}]}))
    (specs / "outside.json").write_text(json.dumps({"clips": [{"url": "../other/b.mp4"}]}))
    (specs / "remote.json").write_text(json.dumps({"clips": [{"url": "s3://b/c.mp4"}]}))
    (specs / "broken.json").write_text("{")
    client = await app_client(CONSOLE_SAMPLES_DIR=str(specs), ALLOWED_LOCAL_DIRS=str(media))
    resp = await client.get("/console/samples")
    body = await resp.json()
    assert resp.status == 200 and "Content-Security-Policy" in resp.headers
    by_name = {s["name"]: s["spec"] for s in body["samples"]}
    assert set(by_name) == {"good", "remote"}
    uri = (media / "a.mp4").resolve().as_uri()
    assert by_name["good"] == {"clips": [{"url": uri}], "audio": {"music_url": uri}}


async def test_the_request_json_route(client: Client) -> None:
    document = {**DOC, "user_id": "<script>alert(1)</script> \"q\" 'q'"}
    created = await submit(client, document)
    resp = await client.get(f"/api/v1/compositions/{created['composition_id']}/request")
    assert resp.status == 200 and await resp.json() == document
    resp = await client.get("/api/v1/compositions/comp_unknown/request")
    assert resp.status == 404
    assert_envelope(await resp.json(), "COMPOSITION_NOT_FOUND")
    spec = await (await client.get("/api/docs/openapi.json")).json()
    assert "/api/v1/compositions/{id}/request" in spec["paths"]
