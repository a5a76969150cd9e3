"""The typed application keys (aiohttp `web.AppKey`), in one place so every module agrees."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from aiohttp import web

from vidsvc.config import Settings

if TYPE_CHECKING:
    from vidsvc.beats.service import BeatDetector
    from vidsvc.http.signing import Signer
    from vidsvc.runner.service import Runner

SETTINGS_KEY = web.AppKey("settings", Settings)
#: Set by the runner cleanup context (or by create_app when a runner is injected).
RUNNER_KEY: web.AppKey[Runner] = web.AppKey("runner")
#: Every open WebSocket, so that shutdown can close them with 1001 GOING_AWAY.
SOCKETS_KEY: web.AppKey[WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")
#: Signs and checks the expiring local download URLs.
SIGNER_KEY: web.AppKey[Signer] = web.AppKey("signer")
#: The OpenAPI document, built once after every route is registered.
OPENAPI_KEY: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
#: The beat-detection route's analyses (made at start-up: vidsvc/http/beats.py beats_context).
BEATS_KEY: web.AppKey[BeatDetector] = web.AppKey("beats")
