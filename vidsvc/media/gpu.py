"""ENABLE_GPU_ENCODING: NVENC (h264_nvenc) instead of libx264, where it really works.

Debian's FFmpeg lists h264_nvenc on machines without an NVIDIA GPU, so the encoder's presence
says nothing: start-up encodes one frame with it (through the one spawn site, under the same
child limits as renders, since RLIMIT_AS can break CUDA's start) and a failure stops the
service with one line naming the flag. A render whose NVENC session fails anyway (the card
out of sessions, a driver reset) is encoded again with libx264 (`gave_up`).
"""

from __future__ import annotations

from vidsvc.config import Settings
from vidsvc.errors import ConfigError, ProcessingFailed
from vidsvc.media.children import child_limits
from vidsvc.media.process import run_capture

NVENC = "h264_nvenc"
X264 = "libx264"
#: What FFmpeg's NVENC wrapper and CUDA say when there is no usable encoder session.
NO_SESSION = (
    "No capable devices found",
    "OpenEncodeSessionEx failed",
    "Cannot load libcuda",
    "Cannot init CUDA",
    "No NVENC capable devices",
    "Driver does not support the required nvenc API version",
)
_PROBE = ("-f", "lavfi", "-i", "color=c=gray:s=256x144:r=25:d=0.04", "-frames:v", "1")


def encoder(settings: Settings) -> str:
    return NVENC if settings.enable_gpu_encoding else X264


async def check(settings: Settings) -> None:
    """With the flag on: one frame through NVENC, or ConfigError naming the flag and why."""
    if not settings.enable_gpu_encoding:
        return
    argv = (settings.ffmpeg_bin, "-hide_banner", "-nostdin", "-loglevel", "error", *_PROBE,
            "-c:v", NVENC, "-f", "null", "-")  # fmt: skip
    try:
        done = await run_capture(argv, timeout=30.0, limits=child_limits(settings))
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"ENABLE_GPU_ENCODING=true but NVENC cannot be tried: {exc}") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"]
        telling = [line for line in lines if any(m in line for m in NO_SESSION)]
        reason = (telling or lines)[-1].split("] ", 1)[-1][-200:]  # without "[h264_nvenc @ 0x…]"
        raise ConfigError(f"ENABLE_GPU_ENCODING=true but an NVENC encode failed: {reason}")


def gave_up(failure: ProcessingFailed) -> bool:
    """Whether a render failed for want of an NVENC session (worth doing again on the CPU)."""
    text = f"{failure.message} {failure.details.get('stderr_tail', '')}"
    return any(marker in text for marker in NO_SESSION)
