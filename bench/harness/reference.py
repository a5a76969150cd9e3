"""The reference composition: the numbers every contender shares, and vidsvc's JSON of it.

Five 6.5 s clips of mixed size, rate and audio layout, four 0.5 s crossfades (30.5 s in
all), two text overlays, music and a voiceover, to 720p30 H.264 CRF 21. The hand-written
command (bench.contenders.raw) spells out the same numbers by hand, so both read them from here.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.harness.media import CLIP_SECONDS, MUSIC, VOICEOVER, clip_names, ensure_reference_media

WIDTH, HEIGHT, FPS = 1280, 720, 30
XFADE_SECONDS = 0.5
CRF = 21
MUSIC_VOLUME, MUSIC_FADE_OUT = 0.6, 2.0
VOICEOVER_DELAY = 1.0
AUDIO_RATE = 48000
FONT_FAMILY = "DejaVu Sans"
TITLE = "vidsvc: five clips, one pass"
CAPTION = "Crossfades, music & voiceover (30.5 s)"
#: drawtext reads the overlay texts from these files (written by prepare).
TITLE_FILE, CAPTION_FILE = "title.txt", "caption.txt"


def total_seconds() -> float:
    """Timeline length: every crossfade overlaps two clips by XFADE_SECONDS."""
    n = len(clip_names())
    return n * CLIP_SECONDS - (n - 1) * XFADE_SECONDS


def reference_spec(preset: str) -> dict[str, object]:
    """The reference composition as vidsvc JSON; clip paths relative to the spec."""
    clips: list[dict[str, object]] = []
    for i, name in enumerate(clip_names()):
        clip: dict[str, object] = {
            "url": f"media/{name}",
            "trim_start": 0,
            "trim_end": CLIP_SECONDS,
        }
        if i > 0:
            clip |= {"transition_in": "crossfade", "transition_duration": XFADE_SECONDS}
        clips.append(clip)
    return {
        "clips": clips,
        "overlays": reference_overlays(),
        "audio": {
            "music_url": f"media/{MUSIC}",
            "voiceover_url": f"media/{VOICEOVER}",
            "music_volume": MUSIC_VOLUME,
            "music_fade_out": MUSIC_FADE_OUT,
            "voiceover_volume": 1.0,
            "voiceover_delay": VOICEOVER_DELAY,
        },
        "output": {"resolution": "720p", "fps": FPS, "crf": CRF, "preset": preset},
    }


def reference_overlays() -> list[dict[str, object]]:
    """A centred title with a shadow (0-4 s) and a boxed caption at the bottom (20-28 s)."""
    title_style = {"font": FONT_FAMILY, "size": 64, "color": "#FFFFFF", "shadow": True}
    caption_style = {
        "font": FONT_FAMILY,
        "size": 36,
        "color": "#FFFFFF",
        "box": True,
        "box_color": "#00000080",
    }
    return [
        {"type": "text", "content": TITLE, "position": {"x": "center", "y": "center"},
         "start_time": 0, "duration": 4, "style": title_style},
        {"type": "text", "content": CAPTION, "position": {"x": "center", "y": "bottom"},
         "start_time": 20, "duration": 8, "style": caption_style},
    ]  # fmt: skip


def prepare(out_dir: Path, preset: str, *, force_media: bool) -> Path:
    """Inputs, text files and ref.json in `out_dir`; returns the spec's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"reference media in {out_dir / 'media'}:")
    ensure_reference_media(out_dir / "media", force=force_media)
    # drawtext reads the text from files (textfile=), which needs no escaping at all.
    (out_dir / TITLE_FILE).write_text(TITLE)
    (out_dir / CAPTION_FILE).write_text(CAPTION)
    spec_path = out_dir / "ref.json"
    spec_path.write_text(json.dumps(reference_spec(preset), indent=2) + "\n")
    return spec_path
