"""Internal clip processing (normalize, colour-correct, thumbnail) and its signed callbacks."""

from __future__ import annotations
