"""Compositions: admit, render (one FFmpeg pass) or serve from the render cache, store."""

from __future__ import annotations
