"""How does a render's memory grow with its clip count: before segments, one FFmpeg, by parts.

Compositions of 5, 10, 20 and 40 clips
of 3 s, each joined to the previous by a 0.5 s crossfade, from four 1080p30 H.264 + AAC sources,
rendered at 720p and 1080p (x264 ultrafast: the encoder's share of memory is not the subject).
Three contenders on the same machine, in this process, one after another:
- before: the graph of commit BEFORE (a nested xfade/acrossfade chain, one demuxer per clip),
  compiled by that commit's own code (a git worktree) and run as one FFmpeg under the
  service's default address-space limit (FFMPEG_MAX_MEMORY_MB=0: 6 GiB + 512 MiB per core);
- one FFmpeg: this tree with RENDER_PART_CLIPS=0 (transitions as segments, graph/join.py);
- by parts: this tree as it ships (RENDER_PART_CLIPS=8, graph/parts.py).
Peak memory is the FFmpeg processes' own VmHWM (read from /proc while they run; by parts, the
main FFmpeg's plus the largest part's, which run side by side), wall time from start to exit.
The old tree is a git worktree in the system's temporary directory, never inside this one.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import seams
from bench.harness.measure import Context, Options
from sample_specs.media import VideoRecipe, ensure, video_asset

REPO = Path(__file__).resolve().parents[3]
BEFORE = "92e8e26"  #: the last commit with the nested chain
COUNTS = (5, 10, 20, 40)
SIZES = ("720p", "1080p")
CLIP_S, CROSSFADE_S = 3.0, 0.5


@dataclass(frozen=True)
class Row:
    contender: str
    clips: int
    size: str
    peak_mb: float | None
    wall_s: float | None
    note: str = ""


def sources(out: Path) -> list[Path]:
    recipes = [
        VideoRecipe(f"src{i}.mp4", CLIP_S + 0.2, (1920, 1080),
                    f"testsrc2=s=1920x1080:r=30,hue=h={90 * i}",
                    f"sine=f={300 + 100 * i}:sample_rate=48000")
        for i in range(4)
    ]  # fmt: skip
    ensure([video_asset(r) for r in recipes], out)
    return [out / r.name for r in recipes]


def document(clips: int, size: str, media: list[Path]) -> dict[str, object]:
    items: list[dict[str, object]] = []
    for i in range(clips):
        item: dict[str, object] = {"url": media[i % 4].as_uri(), "trim_end": CLIP_S}
        if i:
            item |= {"transition_in": "crossfade", "transition_duration": CROSSFADE_S}
        items.append(item)
    return {"clips": items, "output": {"resolution": size, "fps": 30, "preset": "ultrafast"}}


def _settings(out: Path, **env: str) -> seams.Settings:
    base = {"TMP_DIR": str(out / "work"), "ALLOWED_LOCAL_DIRS": "/", "JOB_TIMEOUT": "3600"}
    return seams.settings({**base, **env})


def _before_tree() -> Path:
    """That commit's tree, checked out beside (not inside) this one: linters skip it."""
    tree = Path(tempfile.gettempdir()) / f"vidsvc-bench-{BEFORE}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), BEFORE],
                       check=True, capture_output=True)  # fmt: skip
    return tree


#: Run inside that commit's tree, so it is that commit's own bench and vidsvc that compile.
_COMPILE = """
import json, sys
from pathlib import Path
from bench.bare import compile_reference
c = compile_reference(Path(sys.argv[1]), Path(sys.argv[2]), "ultrafast")
print(json.dumps(c.argv))
"""


def run_before(out: Path, clips: int, size: str, media: list[Path]) -> Row:
    """The old graph, compiled by its own code, run as the service ran it (RLIMIT_AS)."""
    tree = _before_tree()
    spec = out / f"before-{clips}-{size}.json"
    spec.write_text(json.dumps(document(clips, size, media)))
    work = out / "before-work"
    env = {**os.environ, "PYTHONPATH": str(tree), "X264_PRESET": "ultrafast"}
    compiled = subprocess.run(
        [sys.executable, "-c", _COMPILE, str(spec), str(work)],
        cwd=tree, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    argv = json.loads(compiled.stdout)
    limit = seams.memory_limit_mb(_settings(out)) << 20

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    peak, wall, code = _watch(argv, work, limited)
    if code != 0:
        return Row("before", clips, size, peak, None, f"failed (exit {code}): out of memory")
    made, expected = _duration(work / "out.mp4"), clips * CLIP_S - (clips - 1) * CROSSFADE_S
    if made < expected - 0.1:  # an allocation failing inside a filter can end the graph early
        return Row("before", clips, size, peak, None, f"exit 0 but {made:.1f} of {expected} s")
    return Row("before", clips, size, peak, wall)


def _duration(path: Path) -> float:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(path)], capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        return float(probe.stdout.strip())
    except ValueError:
        return 0.0


def _watch(
    argv: list[str], cwd: Path, preexec: Callable[[], None] | None = None
) -> tuple[float, float, int]:
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, preexec_fn=preexec,
    )  # fmt: skip
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, seams.resident_peak_mb(proc.pid) or 0.0)
        time.sleep(0.05)
    return peak, time.monotonic() - started, proc.returncode


async def run_now(out: Path, clips: int, size: str, media: list[Path], part_clips: int) -> Row:
    config = _settings(out, RENDER_PART_CLIPS=str(part_clips))
    done = await seams.render_document(document(clips, size, media), config, out / "now.mp4")
    name = "by parts" if part_clips else "one FFmpeg"
    return Row(name, clips, size, done.memory_peak_mb, done.wall_s)


def table(rows: list[Row], counts: tuple[int, ...], sizes: tuple[str, ...]) -> list[str]:
    lines = [
        "| output | clips | before: peak | before: wall | one FFmpeg: peak | one FFmpeg: wall"
        " | by parts: peak | by parts: wall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for clips in counts:
            cells = [size, str(clips)]
            for name in ("before", "one FFmpeg", "by parts"):
                (row,) = [r for r in rows if (r.contender, r.clips, r.size) == (name, clips, size)]
                peak = f"{row.peak_mb:.0f} MiB" if row.peak_mb else "-"
                wall = f"{row.wall_s:.1f} s" if row.wall_s else (row.note or "-")
                cells += [peak if row.wall_s else f"> {peak}", wall]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def measure(ctx: Context, opts: Options) -> list[str]:
    """Every count at every size, three contenders each: the clips.md section's lines."""
    counts, sizes = opts.integers("clip_counts"), opts.texts("clip_sizes")
    print(f"  render memory against the clip count: {counts} clips at {', '.join(sizes)}")
    out = ctx.out / "clips"
    out.mkdir(parents=True, exist_ok=True)
    media = sources(out)
    rows: list[Row] = []
    for size in sizes:
        for clips in counts:
            rows.append(run_before(out, clips, size, media))
            rows.append(asyncio.run(run_now(out, clips, size, media, 0)))
            rows.append(asyncio.run(run_now(out, clips, size, media, 8)))
            for row in rows[-3:]:
                print(f"    {row}", flush=True)
    return [
        f"Compositions of {CLIP_S:g} s clips from four 1080p30 H.264 + AAC sources, each joined "
        f"by a {CROSSFADE_S:g} s crossfade, x264 ultrafast; before: commit {BEFORE}'s graph "
        "compiled by its own code and run under the service's default RLIMIT_AS; peaks are the "
        "FFmpeg processes' VmHWM (by parts: the main FFmpeg's plus the largest part's).",
        "",
        *table(rows, counts, sizes),
    ]
