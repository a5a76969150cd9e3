"""Inputs for beat detection tests: click tracks whose bytes no other test has.

The beat cache (vidsvc/beats/detect.py) lives for the process and is keyed by the input's
bytes, so each track carries a unique comment: a test that counts decodes never finds another
test's answer in the cache.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.support.media import ffmpeg

#: Tempos the tracker reads within 2 BPM from 8 s of clicks.
TEMPOS = (90, 100, 108, 116, 124, 132, 140, 150)


def click_track(directory: Path, bpm: int, seconds: int = 8) -> Path:
    """A WAV of 8 ms clicks at `bpm` (22.05 kHz), with bytes of its own."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"clicks-{bpm}-{uuid.uuid4().hex[:8]}.wav"
    period = 60 / bpm
    source = f"aevalsrc='if(lt(mod(t,{period}),0.008),sin(2*PI*1000*t),0)':d={seconds}:s=22050"
    ffmpeg("-f", "lavfi", "-i", source, "-metadata", f"comment={uuid.uuid4()}", str(path))
    return path
