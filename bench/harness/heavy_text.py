"""The heaviest text the caps allow, as a composition: a captions file at MAX_CAPTION_BYTES
(5000 cues of 990 characters without a space, which must be broken by the service) over
MAX_DURATION_SECONDS, plus MAX_OVERLAYS text overlays of MAX_TEXT_CHARS Chinese characters.
Used by the bench (`python -m bench loop_lag`) and the L10 test (tests/acceptance/reliability).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CUES = 5000
CUE_CHARS = 990  #: 5000 such cues and their timings fill the 5 MiB captions cap
SECONDS = 180  #: MAX_DURATION_SECONDS' default
OVERLAYS = 100  #: MAX_OVERLAYS' default
OVERLAY_CHARS = 500  #: MAX_TEXT_CHARS' default


def _stamp(ms: int) -> str:
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def write_captions(path: Path) -> Path:
    step = SECONDS * 1000 // CUES
    blocks = ["WEBVTT\n"]
    for i in range(CUES):
        text = "x" * CUE_CHARS if i % 2 else "w" * CUE_CHARS
        blocks.append(f"{_stamp(i * step)} --> {_stamp((i + 1) * step)}\n{text}\n")
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def composition(clip: Path, captions: Path) -> dict[str, Any]:
    """`clip` must be at least SECONDS long; `captions` written by write_captions."""
    every = SECONDS / OVERLAYS
    overlays = [
        {
            "type": "text",
            "content": "汉字" * (OVERLAY_CHARS // 2),
            "start_time": round(i * every, 3),
            "duration": every,
        }
        for i in range(OVERLAYS)
    ]
    return {
        "clips": [{"url": clip.as_uri()}],
        "overlays": overlays,
        "captions": {"url": captions.as_uri()},
        "output": {"resolution": "360p", "fps": 15, "preset": "ultrafast"},
    }
