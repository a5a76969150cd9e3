"""Bearer-token auth for `/internal/*`: INTERNAL_API_TOKEN, compared in constant time.

Runs inside the error middleware (so a refusal is the usual envelope) and before any handler,
so a refused request's body is never read and no job is created. An empty INTERNAL_API_TOKEN
leaves the internal API open, which suits development only: set it in production.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from vidsvc.errors import Unauthorized
from vidsvc.http.keys import SETTINGS_KEY

INTERNAL_PREFIX = "/internal/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _presented(request: web.Request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


@web.middleware
async def internal_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[SETTINGS_KEY].internal_api_token
    if token and request.path.startswith(INTERNAL_PREFIX):
        given = _presented(request)
        # compare_digest on bytes: its time does not depend on where the first mismatch is
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized(
                "this route needs Authorization: Bearer <INTERNAL_API_TOKEN>",
                details={"header": "Authorization"},
            )
    return await handler(request)


def setup_auth(app: web.Application) -> None:
    app.middlewares.append(internal_auth)
