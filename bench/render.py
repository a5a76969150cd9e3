"""Render benchmark: `vidsvc render` against a hand-written single FFmpeg command.

Run as `python -m bench.render` (`make bench` runs bench.suite, which includes it).
Every contender renders the same reference composition: five 6.5 s clips of mixed size,
rate and audio layout, four 0.5 s crossfades (30.5 s in all), two text overlays, music
and a voiceover, to 720p30 H.264 CRF 21 `medium`. The hand-written command is what an FFmpeg expert
would type for this one composition; vidsvc compiles a general JSON composition
into one command, and the target is that this costs at most 5 % in wall time.

A third contender runs the exact FFmpeg command vidsvc compiles, bare, with no
Python around it: it splits vidsvc's cost into the graph's and the orchestration's.

Each round starts one contender further along, so page cache, CPU frequency and
thermal drift do not favour one side; medians are reported.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.bare import CompileFailed, compile_reference
from bench.media import ensure_reference_media
from bench.raw import CAPTION_FILE, TITLE_FILE, font_file, raw_command
from bench.reference import CAPTION, TITLE, reference_spec
from bench.report import (
    TARGET_RATIO,
    check_durations,
    misses_target,
    result_lines,
    write_results,
)
from bench.timing import BARE, RAW, RENDER, Contender, RenderFailed, run_rounds

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH_DIR / "out"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="rounds (default 2)")
    parser.add_argument("--preset", default="medium", help="x264 preset for all (default medium)")
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
        help=f"exit 3 when the vidsvc render/raw wall ratio is above {TARGET_RATIO}",
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
    (out_dir / TITLE_FILE).write_text(TITLE)
    (out_dir / CAPTION_FILE).write_text(CAPTION)
    spec_path = out_dir / "ref.json"
    spec_path.write_text(json.dumps(reference_spec(preset), indent=2) + "\n")
    return spec_path


def contenders_for(args: argparse.Namespace, spec: Path) -> tuple[list[Contender], int]:
    """The contenders in first-round order, and how many inputs vidsvc probes (0: none).

    Raises CompileFailed when vidsvc cannot compile the reference.
    """
    out: Path = args.out
    raw_out = out / "out_raw.mp4"
    raw = Contender(RAW, raw_command(raw_out, args.preset, font_file()), raw_out, out)
    if args.raw_only:
        return [raw], 0
    vid_out = out / "out_vidsvc.mp4"
    argv = [sys.executable, "-m", "vidsvc", "render", str(spec), str(vid_out)]
    render = Contender(RENDER, argv, vid_out, out)
    compiled = compile_reference(spec, out / "bare", args.preset)
    bare = Contender(BARE, compiled.argv, compiled.output, compiled.work)
    return [render, bare, raw], compiled.inputs


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    if args.print_command:
        print(shlex.join(raw_command(args.out / "out_raw.mp4", args.preset, font_file())))
        return 0
    spec = prepare(args.out, args.preset, force_media=args.force_media)
    try:
        contenders, probed_inputs = contenders_for(args, spec)
        print(f"timing {args.runs} round(s), preset {args.preset}:")
        run_rounds(contenders, args.runs, args.out)
    except (CompileFailed, RenderFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    lines = result_lines(contenders, args.preset, probed_inputs)
    print("\n" + "\n".join(lines))
    for warning in check_durations(contenders):
        print(warning, file=sys.stderr)
    print(f"\nwrote {write_results(args.out, lines, contenders)}")
    return 3 if args.check and misses_target(contenders) else 0


if __name__ == "__main__":
    sys.exit(main())
