"""The reference composition's inputs: five clips of mixed shape, music and a voiceover.

They mirror what real compositions mix: different sizes, aspect ratios and frame
rates, one clip without an audio track, audio at different sample rates. All are
synthesized with lavfi (see sample_specs.media) and cached in bench/out/media/.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sample_specs.media import (
    FFPROBE,
    Asset,
    VideoRecipe,
    ensure,
    music_asset,
    video_asset,
    voice_asset,
)

#: Seconds each clip contributes before crossfades; the composition trims to this.
CLIP_SECONDS = 6.5
#: Sources are a little longer than the trim, as real footage is, so neither
#: contender sees a trim that ends exactly at (or rounds past) the source's end.
SOURCE_SECONDS = 7.0
#: Music longer than the 30.5 s timeline (trimmed, not looped); voiceover ~10 s.
MUSIC_SECONDS = 40.0
VOICEOVER_SECONDS = 10.0

REFERENCE_CLIPS = (
    VideoRecipe("ref1_1080p30.mp4", SOURCE_SECONDS, (1920, 1080),
                "testsrc2=s=1920x1080:r=30", "sine=f=440:sample_rate=48000"),
    # No audio track: the composition must substitute silence for this clip.
    VideoRecipe("ref2_720p25_silent.mp4", SOURCE_SECONDS, (1280, 720),
                "smptebars=s=1280x720:r=25,scroll=h=0.004"),
    VideoRecipe("ref3_portrait.mp4", SOURCE_SECONDS, (720, 1280),
                "testsrc2=s=720x1280:r=30,hue=h=t*40", "sine=f=550:sample_rate=44100"),
    VideoRecipe("ref4_480p24.mp4", SOURCE_SECONDS, (854, 480),
                "testsrc2=s=854x480:r=24", "sine=f=660:sample_rate=48000"),
    VideoRecipe("ref5_square60.mp4", SOURCE_SECONDS, (1080, 1080),
                "testsrc2=s=1080x1080:r=60,hue=h=t*90",
                "aevalsrc='0.3*sin(2*PI*330*t)*abs(sin(2*PI*t))':s=44100:c=stereo"),
)  # fmt: skip
MUSIC = "music.mp3"
VOICEOVER = "voiceover.wav"


def reference_assets() -> list[Asset]:
    """Every input of the reference composition, clips first in timeline order.

    The clips use x264 `veryfast` rather than `ultrafast`: CABAC and B-frames
    make decoding cost closer to camera or phone footage, and the files are
    generated once and cached.
    """
    return [
        *(video_asset(recipe, preset="veryfast") for recipe in REFERENCE_CLIPS),
        music_asset(MUSIC, MUSIC_SECONDS),
        voice_asset(VOICEOVER, VOICEOVER_SECONDS),
    ]


def clip_names() -> list[str]:
    return [recipe.name for recipe in REFERENCE_CLIPS]


def clip_has_audio() -> list[bool]:
    return [recipe.audio is not None for recipe in REFERENCE_CLIPS]


def ensure_reference_media(media_dir: Path, *, force: bool = False) -> None:
    """Generate (or keep, when already valid) every reference input in `media_dir`."""
    ensure(reference_assets(), media_dir, force=force)


def probe_duration(path: Path) -> float | None:
    """The container duration ffprobe reports, or None when it cannot tell."""
    cmd = [FFPROBE, "-v", "error", "-show_entries", "format=duration"]
    cmd += ["-of", "default=nw=1:nk=1", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        return float(done.stdout.strip())
    except ValueError:
        return None
