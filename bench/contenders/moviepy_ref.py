"""The MoviePy 2 contender: the reference composition written with MoviePy's own API.

Run as `python -m bench.contenders.moviepy_ref MEDIA_DIR OUT.mp4 [--preset P]`; the moviepy
measure times it as a subprocess, like the other contenders, so its Python start-up, imports
and every FFmpeg child it spawns count.

It is the composition a MoviePy user would write, as close to the reference as MoviePy
allows: each clip subclipped to 6.5 s, resized to fit 1280x720 and letterboxed on black
(with_background_color), placed 6 s apart on one CompositeVideoClip with CrossFadeIn(0.5)
(an alpha dissolve over the previous clip, as xfade=fade is); clip audio faded out/in over
the same 0.5 s (acrossfade's default curves are linear too); music trimmed to the timeline,
faded out over 2 s at 0.6 volume; the voiceover 1 s in; TextClip with the DejaVu font.
Encoded by the same system FFmpeg (FFMPEG_BINARY) with libx264, the same preset, CRF 21,
30 fps, yuv420p, AAC 192k at 48 kHz.

What differs (MoviePy cannot express it): the title's shadow is a second, black TextClip
at 70 % opacity 3 px down-right, not drawtext's shadow; the caption's box is the TextClip's
own background (bg_color with alpha) padded by a 12 px margin; there is no limiter on the
mix (MoviePy sums the layers and clips at full scale); MoviePy decodes each source through
its own FFmpeg pipe as RGB24 and resizes with Pillow instead of swscale, composites in
numpy and pipes raw RGB frames to a second FFmpeg; the audio is rendered to a temporary
file first and muxed by that FFmpeg.

MoviePy has no type hints: it is imported by name (importlib) and used as Any.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness.media import CLIP_SECONDS, MUSIC, VOICEOVER, clip_names
from bench.harness.reference import (
    AUDIO_RATE,
    CAPTION,
    CRF,
    FPS,
    HEIGHT,
    MUSIC_FADE_OUT,
    MUSIC_VOLUME,
    TITLE,
    VOICEOVER_DELAY,
    WIDTH,
    XFADE_SECONDS,
    total_seconds,
)

CPU_LINE = "moviepy-cpu-seconds"


def fitted(clip: Any) -> Any:
    """Fit inside WIDTHxHEIGHT keeping the aspect ratio, centred on black (pad in FFmpeg)."""
    w, h = clip.size
    scale = min(WIDTH / w, HEIGHT / h)
    size = (round(w * scale), round(h * scale))
    return clip.resized(new_size=size).with_background_color(
        size=(WIDTH, HEIGHT), color=(0, 0, 0), pos="center"
    )


def clips(mp: Any, media: Path) -> list[Any]:
    """Every clip trimmed, fitted and placed; the crossfades as alpha fades over the previous."""
    step = CLIP_SECONDS - XFADE_SECONDS
    names = clip_names()
    placed = []
    for k, name in enumerate(names):
        source = mp.VideoFileClip(str(media / name)).subclipped(0, CLIP_SECONDS)
        clip = fitted(source)
        if source.audio is not None:
            fades = []
            if k > 0:
                fades.append(mp.afx.AudioFadeIn(XFADE_SECONDS))
            if k < len(names) - 1:
                fades.append(mp.afx.AudioFadeOut(XFADE_SECONDS))
            clip = clip.with_audio(source.audio.with_effects(fades))
        if k > 0:
            clip = clip.with_effects([mp.vfx.CrossFadeIn(XFADE_SECONDS)])
        placed.append(clip.with_start(k * step))
    return placed


def overlays(mp: Any, font: str) -> list[Any]:
    """The title (with a faked shadow) 0-4 s and the boxed caption 20-28 s."""
    # The vertical margin keeps descenders: TextClip's "label" sizing cuts them off otherwise.
    label = {"font": font, "text": TITLE, "font_size": 64, "margin": (0, 8)}
    title = mp.TextClip(**label, color="white")
    shadow = mp.TextClip(**label, color="black").with_opacity(0.7)
    x, y = (WIDTH - title.w) // 2, (HEIGHT - title.h) // 2
    caption = mp.TextClip(
        font=font,
        text=CAPTION,
        font_size=36,
        color="white",
        bg_color=(0, 0, 0, 128),
        margin=(12, 12),
    )
    layers = [
        shadow.with_position((x + 3, y + 3)).with_start(0).with_duration(4),
        title.with_position((x, y)).with_start(0).with_duration(4),
        caption.with_position(("center", HEIGHT - caption.h - 36)).with_start(20).with_duration(8),
    ]
    return layers


def audio(mp: Any, media: Path, video_audio: Any) -> Any:
    """Clip audio, music and voiceover summed (amix normalize=0 does the same, then limits)."""
    total = total_seconds()
    music = (
        mp.AudioFileClip(str(media / MUSIC))
        .subclipped(0, total)
        .with_effects([mp.afx.AudioFadeOut(MUSIC_FADE_OUT), mp.afx.MultiplyVolume(MUSIC_VOLUME)])
    )
    voice = mp.AudioFileClip(str(media / VOICEOVER)).with_start(VOICEOVER_DELAY)
    mixed = mp.CompositeAudioClip([video_audio, music, voice])
    return mixed.with_duration(total)


def render(media: Path, output: Path, preset: str, font: str, threads: int | None) -> None:
    # The bench extra, untyped; imported here so --help works without it.
    mp = importlib.import_module("moviepy")

    video = mp.CompositeVideoClip(
        [*clips(mp, media), *overlays(mp, font)], size=(WIDTH, HEIGHT), bg_color=(0, 0, 0)
    ).with_duration(total_seconds())
    video = video.with_audio(audio(mp, media, video.audio))
    video.write_videofile(
        str(output),
        fps=FPS,
        codec="libx264",
        preset=preset,
        audio_fps=AUDIO_RATE,
        audio_codec="aac",
        audio_bitrate="192k",
        threads=threads,
        pixel_format="yuv420p",
        ffmpeg_params=["-crf", str(CRF), "-movflags", "+faststart"],
        temp_audiofile=str(output.with_suffix(".m4a")),
        logger=None,
    )
    video.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.contenders.moviepy_ref", description=__doc__
    )
    parser.add_argument("media", type=Path, help="the reference inputs (bench/out/media)")
    parser.add_argument("output", type=Path)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--font", default="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    parser.add_argument("--threads", type=int, default=None, help="FFmpeg -threads (default)")
    args = parser.parse_args(argv)
    # The same FFmpeg as every other contender, not imageio-ffmpeg's bundled build.
    os.environ.setdefault("FFMPEG_BINARY", "ffmpeg")
    render(args.media.resolve(), args.output.resolve(), args.preset, args.font, args.threads)
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The moviepy measure reads this line from the log: where MoviePy's CPU time went.
    print(
        f"{CPU_LINE} python={own.ru_utime + own.ru_stime:.2f} "
        f"ffmpeg={children.ru_utime + children.ru_stime:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
