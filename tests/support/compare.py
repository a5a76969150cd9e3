"""Two renders of the same seconds compared: decoded frames by PSNR, sound by level and by
alignment (the lag at which their samples correlate best). numpy on FFmpeg's decoded output.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.media import probe, stream

RATE = 48_000
Array = np.ndarray[Any, Any]


def frame_count(path: Path) -> int:
    """The video stream's frames, as the container counts them."""
    return int(stream(probe(path), "video")["nb_frames"])


def frames(path: Path, numbers: list[int]) -> dict[int, Array]:
    """The decoded frames `numbers` (0-based, in output order), each its yuv420p bytes."""
    info = stream(probe(path), "video")
    size = int(info["width"]) * int(info["height"]) * 3 // 2
    wanted = sorted(set(numbers))
    picks = "+".join(f"eq(n\\,{n})" for n in wanted)
    out = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-i",
            str(path),
            "-an",
            "-vf",
            f"select='{picks}'",
            "-fps_mode",
            "passthrough",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rawvideo",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert len(out) == size * len(wanted), f"{len(out) // size} of {len(wanted)} frames"
    data = np.frombuffer(out, dtype=np.uint8).reshape(len(wanted), size)
    return {n: data[k] for k, n in enumerate(wanted)}


def frame_md5s(path: Path, first: int, count: int) -> list[str]:
    """MD5 of each decoded frame first…first+count-1 (framemd5's last column): equal lists
    are the very same pictures."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-an", "-vf",
         f"select='between(n,{first},{first + count - 1})'", "-fps_mode", "passthrough",
         "-f", "framemd5", "-"],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    return [line.rsplit(",", 1)[1].strip() for line in out.stdout.splitlines() if line[:1] != "#"]


def psnr(a: Array, b: Array) -> float:
    """PSNR in dB of two 8-bit pictures (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def pcm(path: Path, start_ms: int = 0, duration_ms: int | None = None) -> Array:
    """The sound as float32 mono 48 kHz samples, from `start_ms` for `duration_ms`."""
    trim = f"atrim=start_sample={start_ms * RATE // 1000}"
    if duration_ms is not None:
        trim += f":end_sample={(start_ms + duration_ms) * RATE // 1000}"
    out = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-i",
            str(path),
            "-vn",
            "-af",
            trim,
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-f",
            "f32le",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return np.frombuffer(out, dtype=np.float32)


def rms_db(samples: Array) -> float:
    """RMS level in dBFS."""
    return 10 * math.log10(float(np.mean(samples.astype(np.float64) ** 2)))


def lag(reference: Array, other: Array, most: int = 4800) -> int:
    """Samples `other` is late (+) or early (-) against `reference`: the peak of their
    cross-correlation within ±`most` samples (±100 ms at 48 kHz)."""
    n = min(len(reference), len(other))
    assert n > RATE // 2, "too little sound to align"
    size = 1 << (2 * n).bit_length()
    spectrum = np.fft.rfft(other[:n], size) * np.conj(np.fft.rfft(reference[:n], size))
    correlation = np.fft.irfft(spectrum, size)  # [d]: the sum of other[i + d] * reference[i]
    lags = np.r_[0 : most + 1, -most:0]
    return int(lags[int(np.argmax(correlation[lags]))])
