"""Render benchmark: `vidsvc render` against a hand-written single FFmpeg command.

Run as `python -m bench.render` (or `make bench`). Both contenders render the same
reference composition: five 6.5 s clips of mixed size, rate and audio layout, four
0.5 s crossfades (30.5 s in all), two text overlays, music and a voiceover, to
720p30 H.264 CRF 21 `medium`. The hand-written command is what an FFmpeg expert
would type for this one composition; vidsvc compiles a general JSON composition
into one command, and the target is that this costs at most 5 % in wall time.

Runs alternate order (vidsvc first, then raw first, ...) so page cache, CPU
frequency and thermal drift do not favour one side; medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.media import (
    CLIP_SECONDS,
    MUSIC,
    VOICEOVER,
    clip_has_audio,
    clip_names,
    ensure_reference_media,
)
from sample_specs.media import FFMPEG, FFPROBE

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "out"
TARGET_RATIO = 1.05

WIDTH, HEIGHT, FPS = 1280, 720, 30
XFADE_SECONDS = 0.5
CRF = 21
MUSIC_VOLUME, MUSIC_FADE_OUT = 0.6, 2.0
VOICEOVER_DELAY = 1.0
AUDIO_RATE = 48000
FONT_FAMILY = "DejaVu Sans"
FALLBACK_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TITLE = "vidsvc: five clips, one pass"
CAPTION = "Crossfades, music & voiceover (30.5 s)"


def total_seconds() -> float:
    """Timeline length: every crossfade overlaps two clips by XFADE_SECONDS."""
    n = len(clip_names())
    return n * CLIP_SECONDS - (n - 1) * XFADE_SECONDS


# --- the composition vidsvc renders ------------------------------------------


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


# --- the hand-written FFmpeg command -----------------------------------------


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
        f"drawtext={common}:textfile=title.txt:fontsize=64:y=(h-text_h)/2"
        ":shadowcolor=black@0.7:shadowx=3:shadowy=3:enable='between(t,0,4)'"
    )
    caption = (
        f"drawtext={common}:textfile=caption.txt:fontsize=36:y=h-text_h-48"
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


# --- timing ------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    argv: list[str]
    output: Path
    cwd: Path
    times: list[float] = field(default_factory=list)  #: wall seconds per run
    cpu: list[float] = field(default_factory=list)  #: user+sys seconds per run


class RenderFailed(RuntimeError):
    pass


def children_cpu() -> float:
    """User+sys seconds of every waited-for descendant so far.

    vidsvc's own FFmpeg and ffprobe children are included once vidsvc is
    waited for, so both contenders are measured the same way. CPU time barely
    moves when other jobs share the machine, unlike wall time.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_once(contender: Contender, log_dir: Path) -> tuple[float, float]:
    """Run one render, logging to bench/out/<name>.log; (wall, cpu) seconds.

    Raises RenderFailed when the command fails or writes no output.
    """
    contender.output.unlink(missing_ok=True)
    log_path = log_dir / f"{contender.name.replace(' ', '_')}.log"
    with log_path.open("w") as log:
        cpu_before = children_cpu()
        started = time.perf_counter()
        done = subprocess.run(
            contender.argv,
            cwd=contender.cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
        elapsed = time.perf_counter() - started
        cpu = children_cpu() - cpu_before
    if done.returncode != 0 or not contender.output.is_file():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
        raise RenderFailed(
            f"{contender.name} failed (exit {done.returncode}); log {log_path}:\n{tail}"
        )
    return elapsed, cpu


def run_alternating(contenders: list[Contender], runs: int, log_dir: Path) -> None:
    """`runs` rounds; odd rounds reverse the order so neither side always goes first."""
    for round_no in range(runs):
        order = contenders if round_no % 2 == 0 else contenders[::-1]
        for contender in order:
            elapsed, cpu = time_once(contender, log_dir)
            contender.times.append(elapsed)
            contender.cpu.append(cpu)
            print(
                f"  run {round_no + 1}/{runs}  {contender.name:<14} {elapsed:7.2f} s"
                f"  (cpu {cpu:6.2f} s, load {os.getloadavg()[0]:.1f})"
            )


def probe_duration(path: Path) -> float | None:
    """The container duration ffprobe reports, or None when it cannot tell."""
    cmd = [FFPROBE, "-v", "error", "-show_entries", "format=duration"]
    cmd += ["-of", "default=nw=1:nk=1", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        return float(done.stdout.strip())
    except ValueError:
        return None


# --- report ------------------------------------------------------------------


def ffmpeg_version() -> str:
    done = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines()[0] if done.stdout else "unknown"


def result_lines(contenders: list[Contender], preset: str) -> list[str]:
    """The result table (Markdown, readable as plain text too)."""
    lines = [
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}; {ffmpeg_version()}",
        f"composition: {len(clip_names())} clips, {total_seconds():g} s, "
        f"720p{FPS} CRF {CRF} preset {preset}",
        "",
        "| command | wall per run (s) | median wall (s) | median cpu (s) | output duration (s) |",
        "|---|---|---|---|---|",
    ]
    for c in contenders:
        duration = probe_duration(c.output)
        shown = "unreadable" if duration is None else f"{duration:.3f}"
        runs = ", ".join(f"{t:.2f}" for t in c.times)
        wall, cpu = statistics.median(c.times), statistics.median(c.cpu)
        lines.append(f"| {c.name} | {runs} | {wall:.2f} | {cpu:.2f} | {shown} |")
    return lines + ratio_lines(contenders)


def ratio_lines(contenders: list[Contender]) -> list[str]:
    """vidsvc/raw for wall time (the target) and CPU time (the noise-free view)."""
    by_name = {c.name: c for c in contenders}
    vid, raw = by_name.get("vidsvc render"), by_name.get("raw ffmpeg")
    if vid is None or raw is None:
        return []
    wall = statistics.median(vid.times) / statistics.median(raw.times)
    cpu = statistics.median(vid.cpu) / statistics.median(raw.cpu)
    verdict = "ok" if wall <= TARGET_RATIO else "ABOVE TARGET"
    return [
        "",
        f"ratio vidsvc/raw, wall: {wall:.3f} (target <= {TARGET_RATIO}) {verdict}",
        f"ratio vidsvc/raw, cpu:  {cpu:.3f}",
    ]


def write_results(out_dir: Path, lines: list[str], raw_argv: list[str]) -> Path:
    """bench/out/results.md: the table plus the exact raw command, for the record."""
    path = out_dir / "results.md"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    body = [f"# Render benchmark ({stamp})", "", *lines, "", "## Raw command", ""]
    body += ["```sh", f"cd {out_dir}", shlex.join(raw_argv), "```", ""]
    path.write_text("\n".join(body))
    return path


def check_durations(contenders: list[Contender]) -> list[str]:
    """Warnings for outputs whose length is off the timeline by more than a frame."""
    expected = total_seconds()
    warnings = []
    for c in contenders:
        got = probe_duration(c.output)
        if got is None or abs(got - expected) > 1.5 / FPS:
            warnings.append(f"warning: {c.name} output is {got} s, expected {expected:g}")
    return warnings


# --- main --------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="rounds (default 2)")
    parser.add_argument("--preset", default="medium", help="x264 preset for both (default medium)")
    parser.add_argument(
        "--raw-only", action="store_true", help="time only the hand-written command"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="work dir (default bench/out)"
    )
    parser.add_argument("--force-media", action="store_true", help="regenerate the input media")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 3 when the ratio is above {TARGET_RATIO}",
    )
    parser.add_argument(
        "--print-command", action="store_true", help="print the raw command and exit"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def prepare(out_dir: Path, preset: str, *, force_media: bool) -> Path:
    """Inputs, text files and ref.json in `out_dir`; returns the spec's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"reference media in {out_dir / 'media'}:")
    ensure_reference_media(out_dir / "media", force=force_media)
    # drawtext reads the text from files (textfile=), which needs no escaping at all.
    (out_dir / "title.txt").write_text(TITLE)
    (out_dir / "caption.txt").write_text(CAPTION)
    spec_path = out_dir / "ref.json"
    spec_path.write_text(json.dumps(reference_spec(preset), indent=2) + "\n")
    return spec_path


def contenders_for(args: argparse.Namespace, spec: Path) -> list[Contender]:
    out: Path = args.out.resolve()
    raw_out = out / "out_raw.mp4"
    raw = raw_command(raw_out, args.preset, font_file())
    found = [Contender("raw ffmpeg", raw, raw_out, out)]
    if not args.raw_only:
        vid_out = out / "out_vidsvc.mp4"
        argv = [sys.executable, "-m", "vidsvc", "render", str(spec), str(vid_out)]
        found.insert(0, Contender("vidsvc render", argv, vid_out, out))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    if args.print_command:
        print(shlex.join(raw_command(args.out / "out_raw.mp4", args.preset, font_file())))
        return 0
    spec = prepare(args.out, args.preset, force_media=args.force_media)
    contenders = contenders_for(args, spec)
    print(f"timing {args.runs} round(s), preset {args.preset}:")
    try:
        run_alternating(contenders, args.runs, args.out)
    except RenderFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    lines = result_lines(contenders, args.preset)
    print("\n" + "\n".join(lines))
    for warning in check_durations(contenders):
        print(warning, file=sys.stderr)
    print(f"\nwrote {write_results(args.out, lines, contenders[-1].argv)}")
    return ratio_exit_code(lines) if args.check else 0


def ratio_exit_code(lines: list[str]) -> int:
    """--check: 3 when the ratio line says the target was missed."""
    return 3 if any("ABOVE TARGET" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
