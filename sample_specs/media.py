"""Generate the small media files that sample_specs/*.json reference.

Run as `python -m sample_specs.media [--out DIR] [--force]` (or `make media`).
Everything is synthesized with FFmpeg's lavfi sources, so no binary file is
committed and a fresh clone can render every sample spec (the narrations use the flite
voice source, so FFmpeg must be built with libflite, as Debian's is). This is a developer
tool, not service code: it shells out to FFmpeg directly. bench/harness/media.py reuses
the Asset machinery for the benchmark's own inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "media"
FFMPEG = os.environ.get("FFMPEG_BIN", "ffmpeg")
FFPROBE = os.environ.get("FFPROBE_BIN", "ffprobe")
#: A cached file is kept when its duration is within this many seconds of the asset's
#: (container and AAC padding make real durations differ slightly from the request).
DURATION_TOLERANCE = 0.35


@dataclass(frozen=True, slots=True)
class Asset:
    """One generated file: the lavfi graphs that make it and what it must look like."""

    name: str
    duration: float
    video: str | None = None  #: lavfi video source graph; None for audio-only files
    audio: str | None = None  #: lavfi audio source graph; None for a silent video
    size: tuple[int, int] | None = None  #: expected width x height (video only)
    codec_args: tuple[str, ...] = ()  #: encoder options, after the mapped inputs

    def command(self, dest: Path) -> list[str]:
        """The FFmpeg command that writes this asset to `dest`."""
        cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        for graph in (self.video, self.audio):
            if graph is not None:
                cmd += ["-f", "lavfi", "-i", graph]
        # -t on the output: some sources (life, sine, anoisesrc) never end by themselves;
        # a still (duration 0) is one frame instead (its codec_args say `-frames:v 1`)
        cmd += [*self.codec_args, *(("-t", f"{self.duration:g}") if self.duration else ())]
        cmd.append(str(dest))
        return cmd


def x264(preset: str = "ultrafast", pix_fmt: str = "yuv420p") -> tuple[str, ...]:
    """H.264 options; ultrafast keeps the sample set well under 30 s on 2 cores.

    CRF 26 because these are test inputs: small files matter more than fidelity.
    """
    return ("-c:v", "libx264", "-preset", preset, "-crf", "26", "-pix_fmt", pix_fmt)


AAC = ("-c:a", "aac", "-b:a", "128k")


@dataclass(frozen=True, slots=True)
class VideoRecipe:
    """A compact description of one synthetic video file (see video_asset)."""

    name: str
    duration: float
    size: tuple[int, int]
    video: str
    audio: str | None = None
    pix_fmt: str = "yuv420p"
    extra: tuple[str, ...] = ()


def video_asset(recipe: VideoRecipe, preset: str = "ultrafast") -> Asset:
    """An H.264 file (with AAC audio when the recipe has an audio graph)."""
    codecs = (*x264(preset, recipe.pix_fmt), *recipe.extra)
    if recipe.audio:
        codecs += AAC
    r = recipe
    return Asset(r.name, r.duration, r.video, r.audio, r.size, codecs)


# A music-like loop: a I-IV-V-vi progression of major triads (2 s per bar), each
# re-struck on every half-second beat. The root is 220 Hz raised by the bar's
# semitones; the phase jumps at bar lines click a little, which is fine for tests.
_BAR = "mod(floor(t/2),4)"
_ROOT = f"220*pow(2,if(eq({_BAR},1),5,if(eq({_BAR},2),7,if(eq({_BAR},3),9,0)))/12)"
_CHORD = (
    f"0.22*(sin(2*PI*{_ROOT}*t)+0.7*sin(2*PI*1.2599*{_ROOT}*t)"
    f"+0.6*sin(2*PI*1.4983*{_ROOT}*t))*(0.45+0.55*exp(-5*mod(t,0.5)))"
)
# Speech-like: a pitch-wobbling buzz gated into syllables (4 Hz) and phrases
# (a pause every 2.5 s), so a mix with music is audibly two layers.
_VOICE = (
    "0.5*sin(2*PI*(140+35*sin(2*PI*2.3*t))*t)*(0.55+0.45*sin(2*PI*4*t))*gt(sin(2*PI*0.4*t)+0.35,0)"
)


def music_asset(name: str, duration: float) -> Asset:
    """Stereo 44.1 kHz MP3 of the chord loop above."""
    graph = f"aevalsrc='{_CHORD}':s=44100:c=stereo:d={duration:g}"
    codecs = ("-c:a", "libmp3lame", "-b:a", "128k")
    return Asset(name, duration, audio=graph, codec_args=codecs)


def voice_asset(name: str, duration: float) -> Asset:
    """Mono 48 kHz PCM WAV of speech-like bursts, low-passed to soften the buzz."""
    graph = f"aevalsrc='{_VOICE}':s=48000:d={duration:g},lowpass=f=2500"
    return Asset(name, duration, audio=graph, codec_args=("-c:a", "pcm_s16le"))


#: A 100 BPM drum loop: a kick (a falling sine) on every beat, a noise snare on 2 and 4,
#: closed hats on the off-beats (the beat tracker's fixture in tests/unit/http/test_http_beats.py).
_DRUMS = (
    "0.8*sin(2*PI*(45+120*exp(-mod(t,0.6)*25))*t)*exp(-mod(t,0.6)*9)"
    "+0.35*(random(0)*2-1)*exp(-mod(t+0.6,1.2)*30)"
    "+0.12*(random(1)*2-1)*exp(-mod(t+0.3,0.6)*90)"
)


def drums_asset(name: str, duration: float) -> Asset:
    """Stereo 44.1 kHz MP3 of the drum loop above."""
    graph = f"aevalsrc='{_DRUMS}|{_DRUMS}':s=44100:d={duration:g}"
    return Asset(name, duration, audio=graph, codec_args=("-c:a", "libmp3lame", "-b:a", "128k"))


#: Silence after each narration's last word, as text-to-speech services leave it.
NARRATION_TAIL_S = 0.6


def narration_asset(name: str, text: str, speech: float, rate: int) -> Asset:
    """`text` spoken by flite's `slt` voice (16 kHz, resampled to `rate`), then
    NARRATION_TAIL_S of silence; `speech` is how long flite speaks it (its own output's
    duration), so the file lasts `speech` + the tail. MP3 or 16-bit WAV by the name."""
    graph = f"flite=voice=slt:text='{text}',aresample={rate},apad=pad_dur={NARRATION_TAIL_S}"
    codecs = (
        ("-c:a", "libmp3lame", "-b:a", "64k") if name.endswith(".mp3") else ("-c:a", "pcm_s16le")
    )
    return Asset(name, round(speech + NARRATION_TAIL_S, 3), audio=graph, codec_args=codecs)


#: narrated_short.json's three narrations (no ' or : in the text: lavfi would read them).
SAMPLE_NARRATIONS = (
    narration_asset("narration_1.mp3", "Every morning starts here. The city wakes up slowly.",
                    3.615, 24000),
    narration_asset("narration_2.wav", "Coffee first, then the commute across town.",
                    3.015, 16000),
    narration_asset("narration_3.mp3", "By night the lights take over. See you tomorrow.",
                    3.44, 44100),
)  # fmt: skip


SAMPLE_VIDEOS = (
    VideoRecipe("clip_a.mp4", 6, (1280, 720), "testsrc2=s=1280x720:r=30",
                "sine=f=440:beep_factor=4:sample_rate=48000"),
    # Static bars scrolled sideways so transitions have motion to blend; no audio.
    VideoRecipe("clip_b.mp4", 5, (1280, 720),
                "smptebars=s=1280x720:r=25,scroll=h=0.004"),
    VideoRecipe("clip_portrait.mp4", 4, (720, 1280), "testsrc2=s=720x1280:r=30",
                "sine=f=660:sample_rate=48000"),
    # 60 fps video and 44.1 kHz audio: both must be resampled to the output's rates.
    VideoRecipe("clip_square60.mp4", 4, (1080, 1080),
                "life=s=270x270:r=60:mold=10:ratio=0.1:life_color=#40E040"
                ":death_color=#301010,scale=1080:1080:flags=neighbor",
                "aevalsrc='0.3*sin(2*PI*330*t)*abs(sin(2*PI*t))':s=44100"),
    # Variable frame rate: `select` drops an irregular subset of frames and
    # -fps_mode vfr keeps the survivors' timestamps; 4:2:2 chroma and mono
    # 22.05 kHz pink noise exercise pixel-format and audio-layout normalization.
    VideoRecipe("clip_vfr.mkv", 5, (960, 540),
                "testsrc2=s=960x540:r=30,select='lt(mod(n,7),4)+gt(random(0),0.6)'",
                "anoisesrc=c=pink:r=22050:a=0.15", pix_fmt="yuv422p",
                extra=("-fps_mode", "vfr")),
)  # fmt: skip


def still_asset(name: str, graph: str, size: tuple[int, int]) -> Asset:
    """One image (PNG, JPEG or WebP by the name's extension) from a lavfi graph's first frame."""
    return Asset(name, 0.0, graph, None, size, ("-frames:v", "1"))


#: Stills and a logo for the vertical sample (vertical_social.json): a landscape JPEG, a
#: portrait PNG and a WebP; the logo is a PNG whose corners are transparent.
SAMPLE_STILLS = (
    still_asset("still_city.jpg", "mandelbrot=s=1280x720:maxiter=200", (1280, 720)),
    still_asset("still_portrait.png", "testsrc2=s=1080x1920,hue=h=120", (1080, 1920)),
    still_asset("still_square.webp", "cellauto=s=800x800:rule=110:full=1,scale=800:800",
                (800, 800)),
    still_asset(
        "logo.png",
        "color=c=black:s=240x240,format=rgba,"
        "geq=r=255:g='160+60*lt(hypot(X-120,Y-120),60)':b=0:a='255*lt(hypot(X-120,Y-120),110)'",
        (240, 240),
    ),
)  # fmt: skip


def sample_assets() -> list[Asset]:
    """The files sample_specs/*.json use: mixed sizes, rates and audio layouts."""
    return [
        *(video_asset(recipe) for recipe in SAMPLE_VIDEOS),
        music_asset("music.mp3", 20),
        music_asset("loop.mp3", 3),  # shorter than any spec: exercises music_loop
        voice_asset("voiceover.wav", 6),
        drums_asset("drums.mp3", 20),  # finished_sound.json: beats to cut on
        *SAMPLE_NARRATIONS,  # narrated_short.json: one per scene
        *SAMPLE_STILLS,
    ]


def probe(path: Path) -> dict[str, object]:
    """ffprobe's format and stream summary, or {} when `path` is not readable media."""
    entries = "format=duration:stream=codec_type,width,height"
    cmd = [FFPROBE, "-v", "error", "-show_entries", entries, "-of", "json", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {}
    data: dict[str, object] = json.loads(done.stdout)
    return data


def is_current(asset: Asset, path: Path) -> bool:
    """True when `path` already holds this asset: duration, frame size, track set."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    info = probe(path)
    fmt, streams = info.get("format"), info.get("streams")
    if not isinstance(fmt, dict) or not isinstance(streams, list):
        return False
    if abs(float(fmt.get("duration", 0)) - asset.duration) > DURATION_TOLERANCE:
        return False
    kinds = sorted(s.get("codec_type", "") for s in streams)
    wanted = sorted(k for k, g in (("video", asset.video), ("audio", asset.audio)) if g)
    if kinds != wanted:
        return False
    video = [s for s in streams if s.get("codec_type") == "video"]
    return asset.size is None or [(s["width"], s["height"]) for s in video] == [asset.size]


def generate(asset: Asset, out_dir: Path) -> float:
    """Write one asset and return the seconds it took.

    FFmpeg writes to a temporary name that keeps the extension (the muxer is
    chosen from it), then the file is renamed into place: an interrupted run
    never leaves a half-written file that a later run would take as cached.
    """
    dest = out_dir / asset.name
    tmp = dest.with_name(f".{dest.stem}.partial{dest.suffix}")
    started = time.perf_counter()
    done = subprocess.run(asset.command(tmp), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed for {asset.name}:\n{done.stderr.strip()}")
    tmp.replace(dest)
    return time.perf_counter() - started


def ensure(assets: Iterable[Asset], out_dir: Path, *, force: bool = False) -> None:
    """Generate every asset missing or stale in `out_dir`; print one line per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for asset in assets:
        path = out_dir / asset.name
        if not force and is_current(asset, path):
            print(f"  kept   {path}")
            continue
        took = generate(asset, out_dir)
        size_mb = path.stat().st_size / 1e6
        print(f"  wrote  {path}  ({size_mb:.1f} MB in {took:.1f} s)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_specs.media", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir")
    parser.add_argument("--force", action="store_true", help="regenerate all files")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        ensure(sample_assets(), args.out, force=args.force)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"media ready in {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
