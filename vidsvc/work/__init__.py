"""One package per kind of job (independent of each other); kinds.py maps JobKind -> handler."""

from __future__ import annotations
