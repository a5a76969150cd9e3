"""Absolute URLs as the client sees the service: PUBLIC_BASE_URL, else the forwarded headers.

Behind a proxy that terminates TLS the app sees plain http on some inner host, so links honour
`X-Forwarded-Proto` and `X-Forwarded-Host` (first value of each), then `Host`. Values that do
not look like a scheme or a host are ignored rather than echoed.
"""

from __future__ import annotations

import re

from aiohttp import web
from yarl import URL

from vidsvc.http.keys import SETTINGS_KEY

#: host, host:port, [v6]:port: nothing that could end a header or start a path.
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")
_WS_SCHEME = {"http": "ws", "https": "wss"}


def _first(value: str | None) -> str:
    return (value or "").split(",")[0].strip()


def origin(request: web.Request) -> URL:
    """The service's base URL for this request (scheme, host and any path prefix)."""
    base = request.app[SETTINGS_KEY].public_base_url
    if base:
        return URL(base.rstrip("/"))
    scheme = _first(request.headers.get("X-Forwarded-Proto")).lower()
    if scheme not in _WS_SCHEME:
        scheme = request.scheme
    host = _first(request.headers.get("X-Forwarded-Host"))
    if not _HOST.match(host):
        host = request.host if _HOST.match(request.host) else "localhost"
    return URL(f"{scheme}://{host}")


def absolute(request: web.Request, path: str, query: dict[str, str] | None = None) -> str:
    """`path` (starting with /) under the public origin, as a string."""
    base = origin(request)
    url = base.with_path(base.path.rstrip("/") + path)
    return str(url.with_query(query) if query else url)


def redirect(request: web.Request, path: str, query: dict[str, str]) -> str:
    """A Location for `path` on this app: relative, which the client resolves against the URL
    it actually used (proxies included), unless PUBLIC_BASE_URL names a prefix to keep."""
    if request.app[SETTINGS_KEY].public_base_url:
        return absolute(request, path, query)
    return str(URL.build(path=path, query=query))


def websocket(request: web.Request, path: str) -> str:
    """The ws:// or wss:// URL of `path`, on the same public origin."""
    http = URL(absolute(request, path))
    return str(http.with_scheme(_WS_SCHEME.get(http.scheme, "ws")))
