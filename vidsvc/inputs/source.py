"""What both sides of input staging share: a checked source and the two ways it is refused.

The policy (policy.py) makes a `Source` from a URL it accepted; each stager (file, http(s) in
download.py, s3) reads one. A URL the policy refuses, a file that is not media, or one over its
byte cap (`too_large`) is INVALID_CLIP_FORMAT; one that cannot be fetched is INPUT_UNAVAILABLE;
both name the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vidsvc.errors import InvalidClipFormat

#: on_bytes(done, total or None): bytes staged so far.
ByteProgress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A URL the input policy accepted, with what its stager needs."""

    url: str
    scheme: str
    field: str  #: how errors name it, e.g. "clips[1].url"
    path: Path | None = None  #: file: the real path
    host: str = ""  #: http(s)
    port: int = 0


def too_large(src: Source, max_bytes: int) -> InvalidClipFormat:
    """The one refusal of an input over its byte cap, e.g. `captions.url: too large (over
    5242880 bytes)`: every stager says it the same way."""
    return InvalidClipFormat.at(src.field, f"too large (over {max_bytes} bytes)")
