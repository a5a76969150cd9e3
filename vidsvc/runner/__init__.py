"""The impure shell: staging, probing, running FFmpeg. Imports graph, store and the leaves."""

from __future__ import annotations
