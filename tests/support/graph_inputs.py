"""Inputs for building graphs without FFmpeg: one font face, and probed sources made up."""

from __future__ import annotations

from vidsvc.graph import FontFace, Source

FONTS = {
    "DejaVu Sans": FontFace(path="/fonts/DejaVuSans.ttf", family="DejaVu Sans", em_ratio=1.164)
}


def sources(*urls: str, audio: bool = True) -> dict[str, Source]:
    return {
        u: Source(name=f"in{i}.mp4", duration_ms=4000, has_video=True, has_audio=audio)
        for i, u in enumerate(urls)
    }
