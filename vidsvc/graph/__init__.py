"""Pure compiler from a composition (and probed inputs) to one FFmpeg argv. No I/O."""

from __future__ import annotations
