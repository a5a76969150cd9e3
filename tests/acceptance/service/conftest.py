"""Fixtures for tests of a real `vidsvc serve` process (defined in tests/support/server.py)."""

from __future__ import annotations

from tests.support.server import http, long_clip, server

__all__ = ["http", "long_clip", "server"]
