"""vidsvc: compositions in, one FFmpeg pass, MP4 out."""

from __future__ import annotations

__version__ = "0.1.0"
