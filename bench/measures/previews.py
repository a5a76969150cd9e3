"""What does a preview cost against the full render?

A long composition (30 clips of 6 s cut from 6.5 s sources: 1080p30 with audio, 720p25 without,
1080p30 without, 720p30 with 44.1 kHz audio, in turn; ten 0.75 s crossfades, into every third
clip: 172.5 s), a title, a boxed lower third over the preview's seconds, captions (a cue every
3 s over the whole timeline), a music track, to 720p30 H.264 CRF 21 at preset medium (the
reference's settings). Inputs are made with lavfi and cached in bench/out/media/prev_*.

Contenders, each through `vidsvc render` (a fresh process, as a user previews) in rotating
rounds, medians: the full render; a 5 s range (`output.range`) starting inside a crossfade, so
two clips are live and one of them only for its blend; the same range as a draft
(`output.draft`); and the range with `audio.loudness_lufs`, whose analysis pass measures the
whole timeline's mix.

Then the decode work of each, from one more render of it in a fresh interpreter
(bench/seams.py `render_census`): vidsvc's own render with every FFmpeg it spawns recorded
(why, its argv) and its FFREPORT raised from info to verbose, where FFmpeg's closing statistics
count every input stream's packets read and frames decoded. Inputs opened are the `-i` of every
FFmpeg the render ran (the loudness analysis pass, the sound pass, the parts, the main FFmpeg);
frames decoded are FFmpeg's own counts per input, split into the source files' video frames,
their audio (seconds: samples decoded / the stream's rate), the raw pictures the parts hand the
main FFmpeg through its pipe, and generated (lavfi) inputs; CPU is each FFmpeg's own
`-benchmark` (user + system), summed.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from bench import seams
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.media import probe_duration
from bench.harness.report import met
from bench.harness.timing import Contender, run_rounds
from sample_specs.media import Asset, VideoRecipe, ensure, music_asset, video_asset

CLIP_SECONDS, SOURCE_SECONDS = 6.0, 6.5
XFADE_SECONDS = 0.75
XFADE_EVERY = 3  #: a crossfade into clips 1, 4, 7, …; cuts elsewhere
RANGE_SECONDS = 5.0
WIDTH, HEIGHT, FPS, CRF = 1280, 720, 30, 21
MUSIC_VOLUME, MUSIC_FADE_OUT = 0.6, 2.0
TARGET_LUFS = -14.0
CUE_EVERY = 3.0
TARGET_RANGE, TARGET_DRAFT = 0.10, 0.04
FULL, RANGE, DRAFT, LOUD = (
    "full render",
    "5 s range",
    "5 s range, draft",
    f"5 s range, {TARGET_LUFS:g} LUFS",
)
#: The four shapes the clips take in turn: (label, size, lavfi video, lavfi audio or None).
KINDS = (
    ("1080p30", (1920, 1080), "testsrc2=s=1920x1080:r=30,hue=h={hue}",
     "sine=f={tone}:sample_rate=48000"),
    ("720p25_silent", (1280, 720), "smptebars=s=1280x720:r=25,scroll=h=0.004,hue=h={hue}", None),
    ("1080p30_silent", (1920, 1080), "testsrc2=s=1920x1080:r=30,hue=h=t*40+{hue}", None),
    ("720p30", (1280, 720), "testsrc2=s=1280x720:r=30,hue=h={hue}",
     "aevalsrc='0.3*sin(2*PI*{tone}*t)*abs(sin(2*PI*t))':s=44100:c=stereo"),
)  # fmt: skip
MUSIC = music_asset("prev_music.mp3", 180.0)


def recipes(clips: int) -> list[VideoRecipe]:
    made = []
    for k in range(clips):
        label, size, video, audio = KINDS[k % len(KINDS)]
        hue, tone = (k * 12) % 360, 220 + 20 * k
        made.append(VideoRecipe(f"prev_{k + 1:02d}_{label}.mp4", SOURCE_SECONDS, size,
                                video.format(hue=hue),
                                audio.format(tone=tone) if audio else None))  # fmt: skip
    return made


def assets(clips: int) -> list[Asset]:
    """veryfast, as the reference's clips: CABAC and B-frames decode like real footage."""
    return [*(video_asset(r, preset="veryfast") for r in recipes(clips)), MUSIC]


def layout(clips: int) -> list[tuple[float, float, bool]]:
    """Each clip's (start, end, crossfaded in) on the timeline."""
    placed: list[tuple[float, float, bool]] = []
    for k in range(clips):
        fades = k % XFADE_EVERY == 1
        start = 0.0 if not placed else placed[-1][1] - (XFADE_SECONDS if fades else 0.0)
        placed.append((start, start + CLIP_SECONDS, fades))
    return placed


def composition(media: Path, clips: int, preset: str, start: float) -> dict[str, Any]:
    """The full render as vidsvc JSON, every input a file:// URL."""
    total = layout(clips)[-1][1]
    made: list[dict[str, Any]] = []
    for recipe, (_, _, fades) in zip(recipes(clips), layout(clips), strict=True):
        clip: dict[str, Any] = {"url": (media / recipe.name).resolve().as_uri(),
                                "trim_start": 0, "trim_end": CLIP_SECONDS}  # fmt: skip
        if fades:
            clip |= {"transition_in": "crossfade", "transition_duration": XFADE_SECONDS}
        made.append(clip)
    third_start = max(0.0, start - 4)
    cues = [
        {"start": t, "end": min(t + CUE_EVERY - 0.2, total),
         "text": f"Caption {k + 1}: every few seconds, over the whole timeline"}
        for k, t in enumerate(x * CUE_EVERY for x in range(int(total // CUE_EVERY)))
    ]  # fmt: skip
    box = {"size": 36, "color": "#FFFFFF", "box": True, "box_color": "#00000080"}
    return {
        "clips": made,
        "overlays": [
            {"type": "text", "content": f"vidsvc: {clips} clips, one pass",
             "position": {"x": "center", "y": "center"}, "start_time": 0, "duration": 4,
             "style": {"size": 64, "color": "#FFFFFF", "shadow": True}},
            {"type": "text", "content": "A lower third over the preview's seconds",
             "position": {"x": "left", "y": "top"}, "start_time": third_start,
             "duration": min(14.0, total - third_start), "style": box},
        ],
        "captions": {"cues": cues, "mode": "lines", "style": {"size": 40, "outline": 2}},
        "audio": {"music_url": (media / MUSIC.name).resolve().as_uri(),
                  "music_volume": MUSIC_VOLUME, "music_fade_out": MUSIC_FADE_OUT},
        "output": {"resolution": "720p", "fps": FPS, "crf": CRF, "preset": preset},
    }  # fmt: skip


def variants(doc: dict[str, Any], start: float) -> dict[str, dict[str, Any]]:
    window = {"range": {"start": start, "duration": RANGE_SECONDS}}
    return {
        FULL: doc,
        RANGE: {**doc, "output": {**doc["output"], **window}},
        DRAFT: {**doc, "output": {**doc["output"], **window, "draft": True}},
        LOUD: {**doc, "output": {**doc["output"], **window},
               "audio": {**doc["audio"], "loudness_lufs": TARGET_LUFS}},
    }  # fmt: skip


# -- the census: what each FFmpeg opened, decoded and spent -----------------------------------

_INPUT_STATS = re.compile(
    r"^\s*Input stream #(\d+):(\d+) \((\w+)\): (\d+) packets read \(\d+ bytes\);"
    r"(?: (\d+) frames decoded(?: \((\d+) samples\))?;)?",
    flags=re.MULTILINE,
)
_AUDIO_RATE = re.compile(r"^\s*Stream #(\d+):(\d+)\S*: Audio: [^\n]*?(\d+) Hz", re.MULTILINE)
_ENCODED = re.compile(
    r"^Output file #0 [^\n]*\n\s*Output stream #0:\d+ \(video\): (\d+) frames encoded",
    flags=re.MULTILINE,
)
_BENCH = re.compile(r"bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s")


@dataclass(frozen=True)
class Opened:
    path: str
    kind: str  #: "source" (a file of the composition), "pipe" (the parts'), "sound", "lavfi"


def opened(argv: tuple[str, ...]) -> list[Opened]:
    """Every `-i` of one FFmpeg, in order (FFmpeg numbers its input files so)."""
    found: list[Opened] = []
    fmt = ""
    for flag, value in itertools.pairwise(argv):
        if flag == "-f":
            fmt = value
        elif flag == "-i":
            name = Path(value).name
            kind = ("lavfi" if fmt == "lavfi" else "pipe" if fmt == "rawvideo"
                    else "sound" if name == "sound.wav" else "source")  # fmt: skip
            found.append(Opened(value, kind))
            fmt = ""
    return found


@dataclass
class Process:
    role: str
    inputs: list[Opened]
    video_frames: int = 0  #: decoded from the composition's files
    audio_seconds: float = 0.0  #: decoded from the composition's files
    piped: int = 0  #: raw pictures read from the parts' pipe
    generated: int = 0  #: frames of lavfi inputs
    encoded: int | None = None  #: video frames of its first output
    cpu_s: float = 0.0
    wall_s: float = 0.0


def process(spawned: seams.Spawned) -> Process:
    inputs = opened(spawned.argv)
    report = spawned.report
    head = report.split("\nOutput #", 1)[0]
    rates: dict[tuple[int, int], int] = {}
    for f, s, rate in _AUDIO_RATE.findall(head):
        rates.setdefault((int(f), int(s)), int(rate))
    p = Process(spawned.role, inputs)
    for f, s, kind, _packets, frames, samples in _INPUT_STATS.findall(report):
        key = (int(f), int(s))
        what = inputs[key[0]].kind if key[0] < len(inputs) else "source"
        if what == "pipe":
            p.piped += int(frames or 0)
        elif what == "lavfi":
            p.generated += int(frames or 0)
        elif what == "source" and kind == "video":
            p.video_frames += int(frames or 0)
        elif what == "source" and kind == "audio" and samples:
            p.audio_seconds += int(samples) / rates.get(key, 48_000)
    if encoded := _ENCODED.search(report):
        p.encoded = int(encoded.group(1))
    if times := _BENCH.findall(report):
        utime, stime, rtime = (float(v) for v in times[-1])
        p.cpu_s, p.wall_s = utime + stime, rtime
    return p


@dataclass
class Counted:
    """One contender's census render."""

    census: seams.Census
    processes: list[Process] = field(default_factory=list)

    def total(self, attr: str) -> float:
        return float(sum(getattr(p, attr) or 0 for p in self.processes))

    @property
    def inputs_opened(self) -> int:
        return sum(len(p.inputs) for p in self.processes)

    def sources(self) -> tuple[int, int]:
        """(`-i` of the composition's files, distinct files among them)."""
        paths = [i.path for p in self.processes for i in p.inputs if i.kind == "source"]
        return len(paths), len(set(paths))

    @property
    def encoded(self) -> int:
        return sum(p.encoded or 0 for p in self.processes if p.role == "main")


def count(spec: Path, video: Path) -> Counted:
    """The census render in a fresh interpreter, as `vidsvc render` starts: nothing cached
    (vidsvc caches probes and fonts per process, which would spare a second render its
    probing)."""
    fresh = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=fresh, max_tasks_per_child=1) as pool:
        census = pool.submit(seams.render_census, spec, video).result()
    return Counted(census, [process(s) for s in census.spawned])


# -- the report --------------------------------------------------------------------------------


def live(clips: int, start: float) -> list[str]:
    """The clips the range shows, with their seconds on the timeline."""
    end = start + RANGE_SECONDS
    return [
        f"{k + 1} ({a:g}-{b:g} s{', crossfaded in' if fades else ''})"
        for k, (a, b, fades) in enumerate(layout(clips))
        if a < end and b > start
    ]


def in_crossfade(clips: int, start: float) -> bool:
    return any(fades and a <= start < a + XFADE_SECONDS for a, _, fades in layout(clips))


def report(
    opts: Options, made: list[Contender], counted: dict[str, Counted]
) -> tuple[list[str], tuple[str, ...]]:
    clips, start, preset = opts.integer("clips"), opts.number("range_start"), opts.text("preset")
    by = {c.name: c for c in made}
    full = median(by[FULL].times)
    ratio = {c.name: median(c.times) / full for c in made}
    total = layout(clips)[-1][1]
    fades = sum(f for *_, f in layout(clips))
    missed = [
        what
        for what, bad in (
            (f"range/full {ratio[RANGE]:.1%}", ratio[RANGE] > TARGET_RANGE),
            (f"draft range/full {ratio[DRAFT]:.1%}", ratio[DRAFT] > TARGET_DRAFT),
        )
        if bad
    ]
    loud = counted[LOUD].census.notes.get("loudness") or {}
    analysis = [p for p in counted[LOUD].processes if p.role == "loudness analysis"]
    delta = median(by[LOUD].times) - median(by[RANGE].times)
    where = "inside a crossfade" if in_crossfade(clips, start) else "**not** inside a crossfade"
    walls = by[FULL].times
    lines = [
        f"- the composition: {clips} clips of {CLIP_SECONDS:g} s (1080p30 with audio, 720p25 "
        f"silent, 1080p30 silent, 720p30 with 44.1 kHz audio, in turn), {fades} crossfades of "
        f"{XFADE_SECONDS:g} s: {total:g} s; a title, a boxed lower third, "
        f"{int(total // CUE_EVERY)} caption cues over the whole timeline, music; "
        f"{WIDTH}x{HEIGHT} {FPS} fps CRF {CRF} "
        f"preset {preset}",
        f'- the range: `{{"start": {start:g}, "duration": {RANGE_SECONDS:g}}}`, starting '
        f"{where}; clips live in it: {', '.join(live(clips, start))}",
        f"- noise: the full render took {min(walls):.2f}-{max(walls):.2f} s over {len(walls)} "
        f"run(s) (max/min {max(walls) / min(walls):.2f})",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| 5 s range vs the full render, wall, medians of {len(walls)} | "
        f"{median(by[RANGE].times):.2f} s vs {full:.2f} s: **{ratio[RANGE]:.1%}** | "
        f"≤ {TARGET_RANGE:.0%} | {met(ratio[RANGE] <= TARGET_RANGE)} |",
        f"| the same range as a draft vs the full render | {median(by[DRAFT].times):.2f} s: "
        f"**{ratio[DRAFT]:.1%}** | ≤ {TARGET_DRAFT:.0%} | {met(ratio[DRAFT] <= TARGET_DRAFT)} |",
        f"| the range with a loudness target ({TARGET_LUFS:g} LUFS) vs the full render | "
        f"{median(by[LOUD].times):.2f} s: {ratio[LOUD]:.1%} | – | – |",
        f"| of which the loudness analysis pass (the whole timeline's mix; one census render, "
        f"metadata `analysis_seconds`) | {float(loud.get('analysis_seconds') or 0):.2f} s, "
        f"FFmpeg CPU {sum(p.cpu_s for p in analysis):.2f} s; median wall over the plain range "
        f"{delta:+.2f} s | – | – |",
        "",
        *runs_table(made, total),
        "",
        "### Decode work (one census render of each, in a fresh Python of its own)",
        "",
        *census_table(made, counted),
        "",
        *process_lines(made, counted),
        "",
        *stage_lines(made, counted),
        "",
        *notes(counted),
    ]
    return lines, tuple(missed)


def runs_table(made: list[Contender], total: float) -> list[str]:
    full = median(made[0].times)
    lines = [
        "| contender (`vidsvc render`) | wall per run (s) | median wall (s) | of the full "
        "render | median CPU (s) | output (s) |",
        "|---|---|---|---|---|---|",
    ]
    warnings = []
    for c in made:
        duration = probe_duration(c.output)
        expected = total if c.name == FULL else RANGE_SECONDS
        shown = "?" if duration is None else f"{duration:.3f}"
        lines.append(
            f"| {c.name} | {', '.join(f'{t:.2f}' for t in c.times)} | {median(c.times):.2f} | "
            f"{median(c.times) / full:.1%} | {median(c.cpu):.2f} | {shown} |"
        )
        if duration is None or abs(duration - expected) > 0.1:
            warnings.append(f"- warning: {c.name} output is {shown} s, expected {expected:g} s")
    return [
        *lines,
        "",
        "CPU: user + system of `vidsvc render` and everything it waited for (Python, ffprobe, "
        "every FFmpeg).",
        *warnings,
    ]


def census_table(made: list[Contender], counted: dict[str, Counted]) -> list[str]:
    full = counted[FULL]
    lines = [
        "| contender | FFmpegs | inputs opened (`-i`) | of the composition's files (distinct) "
        "| video frames decoded from them | of the full render's | audio decoded (s) | "
        "pictures through the parts' pipe | output frames | FFmpeg CPU (s) | of the full "
        "render's | census wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in made:
        n = counted[c.name]
        files, distinct = n.sources()
        frames, cpu = n.total("video_frames"), n.total("cpu_s")
        lines.append(
            f"| {c.name} | {len(n.processes)} | {n.inputs_opened} | {files} ({distinct}) | "
            f"{frames:.0f} | {frames / max(full.total('video_frames'), 1):.1%} | "
            f"{n.total('audio_seconds'):.1f} | {n.total('piped'):.0f} | {n.encoded} | "
            f"{cpu:.2f} | {cpu / max(full.total('cpu_s'), 1e-9):.1%} | "
            f"{n.census.wall_s:.2f} |"
        )
    return lines


def process_lines(made: list[Contender], counted: dict[str, Counted]) -> list[str]:
    lines = [
        "Each FFmpeg the census renders ran, in order (inputs: the composition's files + "
        "others: the parts' pipe, the joined sound, lavfi):",
        "",
        "| contender | FFmpeg | inputs | video frames decoded | audio decoded (s) | "
        "pictures piped | generated frames | frames encoded | CPU (s) | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in made:
        for p in counted[c.name].processes:
            files = sum(1 for i in p.inputs if i.kind == "source")
            lines.append(
                f"| {c.name} | {p.role} | {files} + {len(p.inputs) - files} | "
                f"{p.video_frames} | {p.audio_seconds:.1f} | {p.piped} | {p.generated} | "
                f"{'–' if p.encoded is None else p.encoded} | {p.cpu_s:.2f} | {p.wall_s:.2f} |"
            )
    return lines


def stage_lines(made: list[Contender], counted: dict[str, Counted]) -> list[str]:
    """Where each contender's wall goes: the census render's stages and what `vidsvc render`
    adds to them (start-up, imports, reading the spec)."""
    lines = [
        "Where the time goes: the census render's stages (seconds, from the render call: a "
        "fresh Python, nothing cached) against the `vidsvc render` median:",
        "",
        "| contender | `vidsvc render` | census render | validating | encoding | other stages "
        "| CLI − census |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in made:
        n = counted[c.name].census
        stages = dict(n.timings)
        check, encode = stages.pop("validating", 0.0), stages.pop("encoding", 0.0)
        cli = median(c.times)
        lines.append(
            f"| {c.name} | {cli:.2f} | {n.wall_s:.2f} | {check:.2f} | {encode:.2f} | "
            f"{sum(stages.values()):.2f} | {cli - n.wall_s:+.2f} |"
        )
    return [
        *lines,
        "",
        "validating: probing every input (a range probes all of them: the plan needs every "
        "clip's length), fonts, the plan, the graph, the loudness analysis pass; encoding: the "
        "sound pass, the parts and the main FFmpeg.",
    ]


def notes(counted: dict[str, Counted]) -> list[str]:
    full = counted[FULL]
    smart = full.census.smart
    plan = ("applied" if smart.get("applied") else "one pass") + (
        f" ({smart['reason']})" if smart.get("reason") else ""
    )
    shown = counted[RANGE].encoded
    range_frames = counted[RANGE].total("video_frames")
    return [
        f"- the full render's smart-render decision: {plan}",
        f"- the range decodes {range_frames:.0f} source frames for {shown} output frames "
        f"({range_frames / max(shown, 1):.1f} per frame): each live clip is built from its own "
        "start, so a clip that is live only for its blend is decoded whole up to it",
        "- frames decoded are FFmpeg's own counts (`-v verbose` statistics in each FFmpeg's "
        "FFREPORT, bench/seams.py `render_census`); a frame decoded and then dropped before the "
        "range still counts, which is the point",
    ]


def run(ctx: Context, opts: Options) -> list[Section]:
    clips, start, preset = opts.integer("clips"), opts.number("range_start"), opts.text("preset")
    runs = opts.integer("runs")
    media, work = ctx.out / "media", ctx.out / "previews"
    print(f"previews' media in {media}:")
    ensure(assets(clips), media, force=ctx.force_media)
    work.mkdir(parents=True, exist_ok=True)
    doc = composition(media, clips, preset, start)
    made: list[Contender] = []
    specs: dict[str, Path] = {}
    for k, (name, spec) in enumerate(variants(doc, start).items()):
        path = work / f"spec{k}.json"
        path.write_text(json.dumps(spec, indent=1) + "\n")
        specs[name] = path
        video = work / f"out{k}.mp4"
        argv = [sys.executable, "-m", "vidsvc", "render", "--quiet", str(path), str(video)]
        made.append(Contender(name, argv, video, work))
    run_rounds(made, runs, work)
    counted: dict[str, Counted] = {}
    for k, c in enumerate(made):
        counted[c.name] = count(specs[c.name], work / f"census{k}.mp4")
        n = counted[c.name]
        print(f"  census  {c.name:<24} {len(n.processes)} FFmpeg(s), {n.inputs_opened} inputs, "
              f"{n.total('video_frames'):.0f} video frames decoded, CPU "
              f"{n.total('cpu_s'):.2f} s, {n.census.wall_s:.2f} s")  # fmt: skip
    lines, missed = report(opts, made, counted)
    return [Section("previews", MEASURE.question, lines, missed=missed)]


MEASURE = Measure(
    name="previews",
    question="what does a preview cost against the full render?",
    takes="about 7 minutes (3 rounds of a 172.5 s render of 80 s and three 5 s previews, then "
    "one census render of each; 1 more the first time, for the media)",
    quick_note="12 clips (69 s) at ultrafast, 1 round: about 1 minute",
    run=run,
    defaults={"runs": 3, "preset": "medium", "clips": 30, "range_start": 92.0},
    quick={"runs": 1, "preset": "ultrafast", "clips": 12, "range_start": 40.0},
)
