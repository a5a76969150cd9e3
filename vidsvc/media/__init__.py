"""The FFmpeg process layer: the one spawn site, child limits, probe, progress, scratch space."""

from __future__ import annotations
