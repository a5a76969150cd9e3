"""The hand-written contender: the one FFmpeg command an expert would type for the reference.

It is the baseline vidsvc is measured against, so it does only what the composition
needs: no thumbnail, no progress reporting, no input whitelists.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.harness.media import CLIP_SECONDS, MUSIC, VOICEOVER, clip_has_audio, clip_names
from bench.harness.reference import (
    AUDIO_RATE,
    CAPTION_FILE,
    CRF,
    FONT_FAMILY,
    FPS,
    HEIGHT,
    MUSIC_FADE_OUT,
    MUSIC_VOLUME,
    TITLE_FILE,
    VOICEOVER_DELAY,
    WIDTH,
    XFADE_SECONDS,
    total_seconds,
)
from sample_specs.media import FFMPEG

FALLBACK_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def filter_escape(value: str) -> str:
    """Escape a filter option value for both parsing levels of a filtergraph.

    First the option level (`:` separates options, `'` and `\\` quote), then the
    graph level (`[ ] , ;` delimit filters and links); see "Notes on filtergraph
    escaping" in ffmpeg-filters(1).
    """
    for char in "\\':":
        value = value.replace(char, "\\" + char)
    for char in "\\'[],;":
        value = value.replace(char, "\\" + char)
    return value


def font_file() -> str:
    """The file fontconfig picks for DejaVu Sans, as vidsvc's own lookup would."""
    try:
        done = subprocess.run(
            ["fc-match", "-f", "%{file}", FONT_FAMILY],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return FALLBACK_FONT
    return done.stdout.strip() or FALLBACK_FONT


#: FFmpeg 5.1's xfade can notice its first input's EOF while that input's last
#: frame is still queued; when the input ends exactly at offset+duration (as a
#: trimmed clip does) it then skips that frame and leaves a one-frame hole in the
#: timestamps, which the MP4 muxer fills with a duplicate (916 frames, not 915).
#: Two cloned frames past the end make the transition finish on its own, and
#: xfade discards them, so the timeline stays exactly 30.5 s.
XFADE_PAD = ",tpad=stop=2:stop_mode=clone"


def video_chains() -> list[str]:
    """Per clip: constant 30 fps, fit and letterbox into 1280x720, one pixel format.

    The trim after fps drops the extra frame that rounding can add at the end
    (a 60 fps source's last frame at 6.483 s rounds to a 30 fps slot at 6.5 s),
    so the last clip is exactly 195 frames. settb=AVTB gives every branch the
    same time base, which xfade requires.
    """
    fit = (
        f"fps={FPS},trim=duration={CLIP_SECONDS:g},"
        f"scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,"
        f"pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,settb=AVTB"
    )
    n = len(clip_names())
    return [f"[{i}:v]{fit}{XFADE_PAD if i < n - 1 else ''}[v{i}]" for i in range(n)]


def xfade_chain() -> tuple[list[str], str]:
    """Chained xfades; offset k is where clip k starts on the output timeline."""
    chains, last = [], "v0"
    for k in range(1, len(clip_names())):
        offset = k * (CLIP_SECONDS - XFADE_SECONDS)
        label = f"x{k}"
        chains.append(
            f"[{last}][v{k}]xfade=transition=fade:duration={XFADE_SECONDS:g}"
            f":offset={offset:g}[{label}]"
        )
        last = label
    return chains, last


def text_filters(font: str) -> str:
    """Title and caption; text comes from files so no character can alter the graph."""
    common = f"fontfile={filter_escape(font)}:fontcolor=white:x=(w-text_w)/2"
    title = (
        f"drawtext={common}:textfile={TITLE_FILE}:fontsize=64:y=(h-text_h)/2"
        ":shadowcolor=black@0.7:shadowx=3:shadowy=3:enable='between(t,0,4)'"
    )
    caption = (
        f"drawtext={common}:textfile={CAPTION_FILE}:fontsize=36:y=h-text_h-48"
        ":box=1:boxcolor=black@0.5:boxborderw=12:enable='between(t,20,28)'"
    )
    return f"{title},{caption}"


AFORMAT = f"aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


def clip_audio_chains() -> list[str]:
    """Per clip: one rate and layout, exactly CLIP_SECONDS long (silence if none).

    apad=whole_dur guards against a source whose audio ends a little early,
    which would otherwise shift every later acrossfade against its video.
    """
    chains = []
    for i, has_audio in enumerate(clip_has_audio()):
        if has_audio:
            src = f"[{i}:a]{AFORMAT},apad=whole_dur={CLIP_SECONDS:g}"
        else:
            src = (
                f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=duration={CLIP_SECONDS:g},"
                "aformat=sample_fmts=fltp"
            )
        chains.append(f"{src}[a{i}]")
    return chains


def audio_mix_chains(music_input: int, voice_input: int) -> list[str]:
    """acrossfade the clips as the video crossfades, then mix music and voiceover.

    amix normalize=0 keeps each layer at the volume asked for; the limiter (no
    auto-level, delay compensated) only catches peaks where layers add up.
    """
    chains, last = [], "a0"
    for k in range(1, len(clip_names())):
        chains.append(f"[{last}][a{k}]acrossfade=d={XFADE_SECONDS:g}[ac{k}]")
        last = f"ac{k}"
    total = total_seconds()
    chains.append(
        f"[{music_input}:a]atrim=end={total:g},asetpts=PTS-STARTPTS,{AFORMAT},"
        f"afade=t=out:st={total - MUSIC_FADE_OUT:g}:d={MUSIC_FADE_OUT:g},"
        f"volume={MUSIC_VOLUME:g}[mus]"
    )
    delay_ms = round(VOICEOVER_DELAY * 1000)
    chains.append(f"[{voice_input}:a]{AFORMAT},adelay={delay_ms}:all=1,volume=1[vo]")
    chains.append(
        f"[{last}][mus][vo]amix=inputs=3:duration=first:dropout_transition=0"
        ":normalize=0,alimiter=limit=0.95:level=false:latency=true[aout]"
    )
    return chains


def raw_filter_graph(font: str) -> str:
    """The whole filter_complex, one chain per line-equivalent, joined by `;`."""
    n = len(clip_names())
    xfades, video_out = xfade_chain()
    chains = [
        *video_chains(),
        *xfades,
        f"[{video_out}]{text_filters(font)}[vout]",
        *clip_audio_chains(),
        *audio_mix_chains(music_input=n, voice_input=n + 1),
    ]
    return ";".join(chains)


def raw_command(output: Path, preset: str, font: str) -> list[str]:
    """The hand-written command; run with cwd=bench/out (media/ and the text files)."""
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-y"]
    for name in clip_names():
        cmd += ["-t", f"{CLIP_SECONDS:g}", "-i", f"media/{name}"]
    cmd += ["-i", f"media/{MUSIC}", "-i", f"media/{VOICEOVER}"]
    cmd += ["-filter_complex", raw_filter_graph(font)]
    cmd += ["-map", "[vout]", "-map", "[aout]"]
    cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(CRF)]
    cmd += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k"]
    cmd += ["-movflags", "+faststart", str(output)]
    return cmd
