"""What must be equal on every instance for a split render's parts to join byte-exact: the
FFmpeg build and the libx264 it encodes with, the installed fonts (libass falls back per
character to any of them) and the encoding settings that reach the bitstream. The parent
records its own; an instance whose facts differ does not render a part (work.py hands it
back)."""

from __future__ import annotations

from vidsvc.config import Settings
from vidsvc.media.coverage import font_set
from vidsvc.media.ffmpeg import ffmpeg_version, x264_build


async def instance_facts(settings: Settings) -> dict[str, str]:
    return {
        "ffmpeg": await ffmpeg_version(settings),
        "x264": await x264_build(settings),
        "fonts": await font_set() or "",
        "x264_preset": settings.x264_preset,
        "crf": str(settings.default_crf),
        "gpu": str(settings.enable_gpu_encoding),
    }


def differences(ours: dict[str, str], theirs: dict[str, str]) -> list[str]:
    """The facts' names that differ (a fact one side lacks differs)."""
    return sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
