"""The RELIABILITY.md bars (Part B), one test per case, marked by group: `pytest -m C`.

Markers: L (load and backpressure), C (crash and restart), D (dependency outages),
B (bad input), S (security). Fixtures for a real `vidsvc serve` come from tests/support/server.py.
"""

from __future__ import annotations

from tests.support.server import http, long_clip, server

__all__ = ["http", "long_clip", "server"]
