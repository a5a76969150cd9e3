"""Narrations for render tests, and the measures their renders are checked by.

A narration is FFmpeg's flite voice from its first sound (flite's leading silence removed), then
TAIL_S of digital silence; `Speech.speech_ms` (the speech alone, by ffprobe) is the truth a
narrated clip's length is measured against. Renders and plans go through the real pipeline
(render.render, render.planned) with settings from a mapping.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tests.support.media import ffmpeg, probe
from vidsvc import graph
from vidsvc.config import Settings
from vidsvc.runner.reporter import Reporter
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import planned, render

TAIL_S = 0.8  #: digital silence after each narration's speech: never part of a clip

Frames = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Speech:
    path: Path  #: the narration: the speech, then TAIL_S of silence
    speech_ms: int  #: how long flite speaks (the speech alone, measured by ffprobe)
    text: str

    @property
    def url(self) -> str:
        return self.path.as_uri()


def speak(folder: Path, text: str) -> Speech:
    """`text` spoken by flite from its first sound, then TAIL_S of silence (a WAV)."""
    name = re.sub(r"\W+", "-", text).strip("-").lower()
    bare = folder / f"{name}-speech.wav"
    trim = "silenceremove=start_periods=1:start_threshold=-50dB:detection=peak"
    ffmpeg("-f", "lavfi", "-i", f"flite=text='{text}',{trim}", str(bare))
    path = folder / f"{name}.wav"
    ffmpeg("-i", str(bare), "-af", f"apad=pad_dur={TAIL_S}", str(path))
    return Speech(path, round(float(probe(bare)["format"]["duration"]) * 1000), text)


def plain_settings(folder: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "TMP_DIR": str(folder / "work"),
            "ALLOWED_LOCAL_DIRS": "/",
            "X264_PRESET": "ultrafast",
            "JOB_TIMEOUT": "60",
            **env,
        }
    )


async def rendered(document: dict[str, Any], settings: Settings, out: Path) -> Path:
    comp = parse_composition(document)
    await render(comp, settings, video_out=out, thumbnail_out=out.with_suffix(".jpg"))
    return out


async def plan_of(document: dict[str, Any], settings: Settings, work: Path) -> graph.Timeline:
    """The timeline the dry run plans (render.planned), inputs staged in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    done = await planned(parse_composition(document), settings, work, Reporter())
    return done.timeline


def frames(video: Path, *, size: tuple[int, int], pix_fmt: str = "gray") -> Frames:
    """Every decoded frame, scaled to `size`: (n, h, w) for gray, (n, h, w, 3) for rgb24."""
    w, h = size
    args = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(video), "-vf", f"scale={w}:{h}"]
    out = subprocess.run(
        [*args, "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    shape = (-1, h, w) if pix_fmt == "gray" else (-1, h, w, 3)
    return np.frombuffer(out, np.uint8).reshape(shape).astype(np.int16)


def silences(video: Path, *, noise_db: int = -60, least_s: float = 0.2) -> list[list[float]]:
    """[start, end] of every run of silence in the audio (silencedetect); the end of a run
    that lasts to the end of the file is where the audio ends."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(video), "-vn", "-af"]
    args += [f"silencedetect=noise={noise_db}dB:d={least_s}", "-f", "null", "-"]
    err = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stderr
    found: list[list[float]] = []
    for kind, value in re.findall(r"silence_(start|end): (-?[\d.]+)", err):
        if kind == "start":
            found.append([float(value)])
        else:
            found[-1].append(float(value))
    return found
