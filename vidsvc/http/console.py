"""The web console at `/`: one static page (HTML, plain JS, CSS; no build step) and its samples.

Registered only when ENABLE_CONSOLE is true (otherwise `/` is a 404 like any unknown path).
Every console response carries a Content-Security-Policy that allows only this origin (and,
with S3, the bucket's origin for thumbnails and the player: downloads redirect there), no
inline script or style and no plugins, so even a string that slipped into the page as HTML
could not run; the page itself inserts every user string with textContent. The console talks
to the public API only (the same routes any client uses). Imports the leaves.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from marshmallow import Schema, fields

from vidsvc.errors import RouteNotFound, VidsvcError
from vidsvc.http.bodies import ErrorEnvelopeSchema
from vidsvc.http.docs import documented
from vidsvc.http.keys import RUNNER_KEY, SETTINGS_KEY
from vidsvc.http.samples import load_samples

STATIC = Path(__file__).parent / "static" / "console"
ASSETS = "/console"
#: The files the console serves, by name: a fixed list, so no path from a URL reaches the disk.
FILES = {
    "console.js": "application/javascript",
    "templates.js": "application/javascript",
    "outputs.js": "application/javascript",
    "console.css": "text/css",
}
#: Any key will do: only the origin of its presigned URL is used (presigning is local).
ORIGIN_PROBE_KEY = "outputs/console-origin"


def csp(blob_origin: str | None = None) -> str:
    """The page's policy: this origin only, plus, where downloads redirect to presigned S3
    URLs, the bucket's origin for the thumbnails (img) and the player (media)."""
    extra = f" {blob_origin}" if blob_origin else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self'{extra}",
            f"media-src 'self'{extra}",
            "connect-src 'self'",  # CSP 3: 'self' covers ws:// and wss:// to this host
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CSP = csp()
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def blob_origin(request: web.Request) -> str | None:
    """scheme://host[:port] of the store's presigned URLs; None when the app serves the files."""
    try:
        url = await request.app[RUNNER_KEY].blob_url(ORIGIN_PROBE_KEY)
    except VidsvcError:  # no credentials, say: the downloads fail too, the page need not
        return None
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


class SampleSchema(Schema):
    name = fields.String(required=True, metadata={"description": "the file's stem"})
    spec = fields.Dict(required=True, metadata={"description": "a composition, ready to POST"})


class SamplesSchema(Schema):
    samples = fields.List(fields.Nested(SampleSchema), required=True)


@documented(
    summary="The web console (HTML)",
    tag="console",
    responses={200: (None, "an HTML page"), 404: (ErrorEnvelopeSchema, "ENABLE_CONSOLE=false")},
    produces=("text/html",),
)
async def index(request: web.Request) -> web.FileResponse:
    policy = csp(await blob_origin(request))
    headers = {**HEADERS, "Content-Security-Policy": policy, "Content-Type": "text/html"}
    return web.FileResponse(STATIC / "index.html", headers=headers)


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in FILES:
        raise RouteNotFound(f"no console file {name[:40]!r}")
    return web.FileResponse(STATIC / name, headers={**HEADERS, "Content-Type": FILES[name]})


@documented(
    summary="Sample compositions that render on this instance (the console's playground)",
    tag="console",
    description="sample_specs/*.json with their media as file:// URLs; a sample is listed only "
    "when every file it names exists under ALLOWED_LOCAL_DIRS.",
    responses={200: (SamplesSchema, "the samples, by name")},
)
async def samples(request: web.Request) -> web.Response:
    found = await asyncio.to_thread(load_samples, request.app[SETTINGS_KEY])
    return web.json_response({"samples": found}, headers=HEADERS)


def setup_console(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get(ASSETS + "/samples", samples)
    app.router.add_get(ASSETS + "/{name}", asset)
