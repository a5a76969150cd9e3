"""State and blob backends behind Protocols (the embedded-service issue builds them)."""

from __future__ import annotations
