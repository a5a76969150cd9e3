"""Inputs: which URLs are accepted (policy), and staging them as local files per scheme."""

from __future__ import annotations
