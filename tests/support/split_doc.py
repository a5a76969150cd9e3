"""The long composition the split-render tests share (tests/render/test_split.py in process,
tests/acceptance/reliability/test_split_instances.py across two real instances), and what they
read back from an output: its sound's bytes and its frames' timestamps.

A 60 s composition at 180p and 10 fps, near-losslessly encoded (CRF 8) so a frame's PSNR says
which frame it is: ten clips of distinct moving pictures, crossfades into every other clip (so
a boundary has a hard cut to move to), a text overlay and a caption across the boundaries, and
music, brought to a loudness target (its analysis pass serves the sound part alone).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from tests.support.media import make_tone, make_video
from tests.support.render_doc import _as_urls

PICTURES = ["testsrc2", "smptehdbars", "rgbtestsrc", "testsrc", "yuvtestsrc"]


def long_document(root: Path) -> dict[str, Any]:
    """The composition, its media made under `root`."""
    sources = [
        make_video(root / f"c{i}.mp4", size="320x180", rate=25, seconds=6.5,
                   source=PICTURES[i % 5], tone=200 + 40 * i, extra=("-vf", f"hue=h={i * 36}"))
        for i in range(10)
    ]  # fmt: skip
    clips: list[dict[str, Any]] = []
    for i, source in enumerate(sources):
        clip: dict[str, Any] = {"url": source, "trim_end": 6.5 if i % 2 else 6.0}
        if i % 2:
            clip |= {"transition_in": "crossfade", "transition_duration": 0.5}
        clips.append(clip)
    return _as_urls({
        "clips": clips,
        "overlays": [{"type": "text", "content": "Across the seams", "start_time": 15,
                      "duration": 35}],
        "captions": {"cues": [{"start": 18, "end": 45, "text": "a caption over two parts"}]},
        "audio": {"music_url": make_tone(root / "music.wav", seconds=70, volume=0.3),
                  "loudness_lufs": -16},
        "output": {"resolution": "180p", "fps": 10, "crf": 8, "preset": "ultrafast"},
        "cache": False,
    })  # fmt: skip


def pcm_md5(path: Path) -> str:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return hashlib.md5(raw).hexdigest()


def pts(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
         "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # a part's first frame carries x264's SEI (its side data: one more csv field)
    return [line.split(",")[0] for line in out.split()]
