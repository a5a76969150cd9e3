"""The HTTP API (the embedded-service issue builds it). Imports runner and the leaves."""

from __future__ import annotations
