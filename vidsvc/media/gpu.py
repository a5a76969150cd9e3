"""ENABLE_GPU_ENCODING: NVENC (h264_nvenc) instead of libx264, where it really works.

Debian's FFmpeg lists h264_nvenc on machines without an NVIDIA GPU, so the encoder's presence
says nothing: start-up encodes one frame with it (through the one spawn site, under the same
child limits as renders, since RLIMIT_AS can break CUDA's start) and a failure stops the
service with one line naming the flag. NVENC runs hold one of NVENC_MAX_SESSIONS sessions
(`session`, nvenc_sessions.py). A render whose NVENC session fails anyway (another process on
the card, a driver reset) is encoded again with libx264 (`gave_up`). `status` is what
/health/detailed says of the encoder.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import ConfigError, ProcessingFailed
from vidsvc.media import nvenc_sessions
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """A passed start-up check (a failed one stops the service, so there is no other kind)."""

    at: datetime
    seconds: float


def encoder(settings: Settings) -> str:
    return NVENC if settings.enable_gpu_encoding else X264


async def check(settings: Settings) -> Checked | None:
    """With the flag on: one frame through NVENC, or ConfigError naming the flag and why.
    None when the flag is off (nothing tried)."""
    if not settings.enable_gpu_encoding:
        return None
    started = time.monotonic()
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
    return Checked(at=datetime.now(UTC), seconds=round(time.monotonic() - started, 3))


def gave_up(failure: ProcessingFailed) -> bool:
    """Whether a render failed for want of an NVENC session (worth doing again on the CPU)."""
    text = f"{failure.message} {failure.details.get('stderr_tail', '')}"
    return any(marker in text for marker in NO_SESSION)


@asynccontextmanager
async def session(argv: Sequence[str], settings: Settings) -> AsyncIterator[None]:
    """Around one FFmpeg run of `argv`: if it encodes with NVENC, wait for and hold one of the
    process's NVENC_MAX_SESSIONS sessions; otherwise (libx264, the concat join) nothing."""
    if NVENC not in argv:
        yield
        return
    gate = nvenc_sessions.gate(settings.nvenc_max_sessions)
    async with gate.session():
        try:
            yield
        except ProcessingFailed as exc:
            gate.gave_up += gave_up(exc)
            raise


def status(settings: Settings, checked: Checked | None) -> dict[str, Any]:
    """The encoder renders use; for NVENC also the start-up check and the session gate."""
    if encoder(settings) == X264:
        return {"name": X264}
    check_doc: dict[str, Any] = {"result": "not run"}  # a Runner made without open()
    if checked is not None:
        at = checked.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        check_doc = {"result": "passed", "at": at, "seconds": checked.seconds}
    gate = nvenc_sessions.gate(settings.nvenc_max_sessions)
    return {"name": NVENC, "check": check_doc, "sessions": gate.summary()}
