"""Test-side media tools: make inputs with lavfi, and measure outputs (probe, frames, levels).

Tests may start processes directly; the one-spawn-site rule is for vidsvc's own code.
"""

from __future__ import annotations

import array
import json
import math
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAST = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        timeout=120,
    )


def make_video(
    path: Path,
    *,
    size: str = "320x240",
    rate: int = 25,
    seconds: float = 3.0,
    source: str = "testsrc2",
    tone: int | None = 440,
    extra: tuple[str, ...] = (),
) -> Path:
    """A short clip from a lavfi source, with a sine tone unless `tone` is None."""
    joiner = ":" if "=" in source else "="
    args = ["-f", "lavfi", "-i", f"{source}{joiner}s={size}:r={rate}:d={seconds}"]
    if tone is not None:
        args += ["-f", "lavfi", "-i", f"sine=f={tone}:d={seconds}:sample_rate=44100"]
        args += ["-c:a", "aac", "-shortest"]
    ffmpeg(*args, *FAST, *extra, str(path))
    return path


def make_render_ready(
    path: Path,
    *,
    source: str = "testsrc2",
    seconds: float = 4.0,
    tone: int | None = None,
    preset: str = "veryfast",
) -> Path:
    """A 1280x720 30 fps clip encoded by hand with the render-ready options
    (graph.render_ready.video_args): a composition at the same preset may copy its GOPs."""
    from vidsvc.graph.render_ready import video_args

    raw = make_video(path.with_name(f"{path.stem}-raw.mp4"), size="1280x720", rate=30,
                     seconds=seconds, source=source, tone=tone)  # fmt: skip
    audio = ["-c:a", "aac", "-ar", "48000", "-ac", "2"] if tone is not None else ["-an"]
    ffmpeg("-i", str(raw), "-vf", "setsar=1,format=yuv420p", "-c:v", "libx264", "-preset",
           preset, "-crf", "23", *video_args(), *audio, str(path))  # fmt: skip
    return path


def make_tone(path: Path, *, freq: int = 220, seconds: float = 2.0, volume: float = 1.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=f={freq}:d={seconds},volume={volume}", str(path))
    return path


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def stream(info: dict[str, Any], kind: str) -> dict[str, Any]:
    matches = [s for s in info["streams"] if s["codec_type"] == kind]
    assert matches, f"no {kind} stream"
    return matches[0]


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    rgb: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        i = (y * self.width + x) * 3
        return self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]

    def mean(self, box: tuple[int, int, int, int] | None = None) -> tuple[float, float, float]:
        """Mean R, G, B over (x0, y0, x1, y1), the whole frame by default."""
        x0, y0, x1, y1 = box or (0, 0, self.width, self.height)
        sums, n = [0, 0, 0], 0
        for y in range(y0, y1):
            row = self.rgb[(y * self.width + x0) * 3 : (y * self.width + x1) * 3]
            for c in range(3):
                sums[c] += sum(row[c::3])
            n += x1 - x0
        return sums[0] / n, sums[1] / n, sums[2] / n

    def diff(self, other: Frame) -> float:
        """Mean absolute difference per channel value (0 identical, 255 opposite)."""
        return sum(abs(a - b) for a, b in zip(self.rgb, other.rgb, strict=True)) / len(self.rgb)


def frame_at(path: Path, seconds: float) -> Frame:
    """The decoded frame shown at `seconds`, as RGB."""
    info = stream(probe(path), "video")
    w, h = int(info["width"]), int(info["height"])
    out = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-i",
            str(path),
            "-vf",
            f"select=gte(t\\,{seconds}),setpts=N/TB",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert len(out) == w * h * 3, f"no frame at {seconds} s"
    return Frame(w, h, out)


def _pcm(path: Path, *filters: str) -> array.array[int]:
    """The audio track decoded to mono 48 kHz signed 16-bit samples, after `filters`."""
    args = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-vn"]
    if filters:
        args += ["-af", ",".join(filters)]
    args += ["-f", "s16le", "-ac", "1", "-ar", "48000", "-"]
    out = subprocess.run(args, check=True, capture_output=True, timeout=60).stdout
    return array.array("h", out)


def rms_db(path: Path, start: float, duration: float) -> float:
    """RMS level in dBFS of the audio in [start, start + duration) (-inf for digital silence)."""
    samples = _pcm(path, f"atrim=start={start}:duration={duration}")
    assert len(samples) > 0, "no audio in that window"
    mean_square = sum(s * s for s in samples) / len(samples)
    return -math.inf if mean_square == 0 else 10 * math.log10(mean_square / 32768**2)


def peak(path: Path) -> float:
    """Peak absolute sample value of the whole audio track, 0..1."""
    return max(abs(s) for s in _pcm(path)) / 32768


def band_rms_db(path: Path, start: float, duration: float, freq: float) -> float:
    """RMS level in dBFS of [start, start + duration) band-passed around `freq` (one tone)."""
    samples = _pcm(
        path,
        f"atrim=start={start}:duration={duration}",
        f"bandpass=f={freq}:width_type=q:w=8",
        f"bandpass=f={freq}:width_type=q:w=8",
    )
    assert len(samples) > 0, "no audio in that window"
    mean_square = sum(s * s for s in samples) / len(samples)
    return -math.inf if mean_square == 0 else 10 * math.log10(mean_square / 32768**2)


def loudness(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of the whole audio track, by FFmpeg's ebur128."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-vn"]
    args += ["-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"]
    err = subprocess.run(args, check=True, capture_output=True, timeout=60, text=True).stderr
    summary = err[err.rindex("Summary:") :]
    integrated = re.search(r"I:\s*(-?[\d.]+) LUFS", summary)
    true_peak = re.search(r"Peak:\s*(-?[\d.]+|-inf) dBFS", summary)
    assert integrated and true_peak, summary
    peak_db = -math.inf if true_peak.group(1) == "-inf" else float(true_peak.group(1))
    return float(integrated.group(1)), peak_db


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A RIFF WEBP file's top-level chunks (fourcc, payload): FFmpeg 5.1 cannot decode an
    animated WebP, so tests read what it is from its bytes."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    found, at = [], 12
    while at + 8 <= len(data):
        fourcc, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        found.append((fourcc, data[at + 8 : at + 8 + size]))
        at += 8 + size + size % 2  # chunks are padded to even sizes
    return found
