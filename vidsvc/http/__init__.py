"""The HTTP API: REST, WebSockets and docs over one Runner."""

from __future__ import annotations

from vidsvc.http.app import create_app, serve

__all__ = ["create_app", "serve"]
