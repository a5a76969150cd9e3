"""A composition's frames as its graph makes them, before any encoder: raw yuv420p and f32le.

Compares pictures exactly (an encoder's rounding would hide a one-level change): the command
vidsvc compiles, with its MP4 output replaced by raw files.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.media.fontdir import link_files
from vidsvc.media.load import Load
from vidsvc.media.workspace import write_files
from vidsvc.runner.reporter import Reporter
from vidsvc.work.compositions.prepared import Prepared
from vidsvc.work.compositions.render import prepare


@dataclass(frozen=True)
class Frames:
    data: bytes
    size: tuple[int, int]
    prepared: Prepared

    @property
    def frame_bytes(self) -> int:
        w, h = self.size
        return w * h * 3 // 2

    def __len__(self) -> int:
        return len(self.data) // self.frame_bytes

    def frame(self, n: int) -> bytes:
        return self.data[n * self.frame_bytes : (n + 1) * self.frame_bytes]

    def luma(self, n: int) -> bytes:
        w, h = self.size
        return self.frame(n)[: w * h]


async def graph_frames(comp: spec.Composition, settings: Settings, work: Path) -> Frames:
    """Stage, probe and compile `comp` in `work`, then run its graph into raw frames."""
    work.mkdir(parents=True, exist_ok=True)
    prepared = await prepare(comp, settings, work, Reporter(None), load=Load())
    write_files(work, prepared.command.files)
    link_files(work, prepared.command.links)
    argv = list(prepared.command.argv)
    i = argv.index("-map")
    video, audio = argv[i + 1], argv[i + 3]
    thumb = argv[argv.index("-map", i + 4) + 1]
    argv = [
        *argv[:i],
        "-map", video, "-pix_fmt", "yuv420p", "-f", "rawvideo", "out.yuv",
        "-map", audio, "-f", "f32le", "out.pcm", "-map", thumb, "-f", "null", "-",
    ]  # fmt: skip
    subprocess.run([settings.ffmpeg_bin, *argv], cwd=work, check=True, capture_output=True)
    return Frames((work / "out.yuv").read_bytes(), comp.output.size, prepared)


def psnr(a: bytes, b: bytes) -> float:
    """PSNR in dB of two equal-length 8-bit buffers (inf when identical)."""
    mse = sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) / len(a)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)
