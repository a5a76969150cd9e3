"""How does a split render scale, honestly measured on two cores, and what is its serial tail?

A long composition (36 clips of 5.5 s cut from twelve 6.5 s sources — previews' media,
`bench/out/media/prev_*`: 1080p30 with audio, 720p25, 1080p30 and 720p30 with 44.1 kHz audio
in turn; each source used three times from a different point — with a 0.5 s crossfade into
every third clip and cuts elsewhere: 192 s; a title, a caption cue every 4 s, music) at
720p30 CRF 21, rendered four ways in rotating rounds (medians):

- **one pass, one core**: vidsvc's compiled one-pass command run bare (contenders/bare.py's
  way) under `taskset -c 0`;
- **split, two instances of one core**: `prepare_split` (work/compositions/split.py, parts of
  about `chunk_seconds`), then a pool of two workers, worker k running each command under
  `taskset -c k`, each taking the next item from one list (the sound part first, then the video
  parts in order), then `join`; the prepare and the join run in this process pinned to core 0
  (one instance does them), so the split's wall is prepare + parallel phase + join;
- **one pass, unpinned** and **split, unpinned**: the same one-pass command with both cores,
  against `run_split(job, at_once=2)` (one instance splitting its own render).

Every split is built with RENDER_PART_CLIPS=0 (each part one FFmpeg, as `taskset` needs; the
one pass too, so both run the same graphs) and MAX_DURATION_SECONDS raised past 180. The one
pass's compile (stage, probe, plan, compile, pinned to core 0) is timed like the split's
prepare and counted in both one-pass walls. CPU is user + system of each FFmpeg (wait4's
rusage), plus the children the join and `run_split` waited for. Every output's frame count is
ffprobe's `-count_packets` against the one pass's.

Then a simulation from the measured per-part and tail times projects N instances of two cores
for 3, 10 and 30 minutes (the model is written out in the section).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import seams
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.report import met
from bench.harness.timing import RenderFailed, round_order
from bench.measures.previews import KINDS, MUSIC, recipes
from bench.measures.previews import assets as preview_assets
from sample_specs.media import FFPROBE, ensure

SOURCES = 12  #: previews' first twelve clips
CLIP_SECONDS, XFADE_SECONDS, XFADE_EVERY = 5.5, 0.5, 3
CUE_EVERY = 4.0
FPS, CRF = 30, 21
CORES = (0, 1)
TARGET_SPEEDUP, TARGET_UNPINNED, TARGET_EFFICIENCY = 1.8, 1.05, 0.8
SIM_INSTANCES, SIM_MINUTES, SIM_CHUNK_S, MIN_PART_S = (1, 2, 4, 8, 16), (3, 10, 30), 30.0, 20.0
SIM_MAX_PARTS = 16  #: SPLIT_MAX_PARTS's default
ONE_PINNED, SPLIT_PINNED = "one pass, 1 core", "split, 2 × 1 core"
ONE_FREE, SPLIT_FREE = "one pass, unpinned", "split, unpinned (`run_split`, 2 at once)"
SOUND = "sound"


# -- the composition ---------------------------------------------------------------------------


def layout(clips: int) -> list[tuple[float, float, bool]]:
    placed: list[tuple[float, float, bool]] = []
    for k in range(clips):
        fades = k % XFADE_EVERY == 2
        start = 0.0 if not placed else placed[-1][1] - (XFADE_SECONDS if fades else 0.0)
        placed.append((start, start + CLIP_SECONDS, fades))
    return placed


def composition(media: Path, clips: int, preset: str) -> dict[str, Any]:
    sources = recipes(SOURCES)
    total = layout(clips)[-1][1]
    made: list[dict[str, Any]] = []
    for k, (_, _, fades) in enumerate(layout(clips)):
        offset = 0.4 * (k // SOURCES % 3)  # a source's second and third use start later
        url = (media / sources[k % SOURCES].name).resolve().as_uri()
        clip: dict[str, Any] = {"url": url, "trim_start": offset,
                                "trim_end": offset + CLIP_SECONDS}  # fmt: skip
        if fades:
            clip |= {"transition_in": "crossfade", "transition_duration": XFADE_SECONDS}
        made.append(clip)
    cues = [
        {"start": t, "end": min(t + CUE_EVERY - 0.3, total), "text": f"Part of a long form: {k}"}
        for k, t in enumerate(x * CUE_EVERY for x in range(int(total // CUE_EVERY)))
    ]
    return {
        "clips": made,
        "overlays": [{"type": "text", "content": f"vidsvc: {clips} clips, split",
                      "position": {"x": "center", "y": "center"}, "start_time": 0,
                      "duration": 4, "style": {"size": 64, "color": "#FFFFFF", "shadow": True}}],
        "captions": {"cues": cues, "mode": "lines", "style": {"size": 40, "outline": 2}},
        "audio": {"music_url": (media / MUSIC.name).resolve().as_uri(), "music_volume": 0.6,
                  "music_fade_out": 2.0},
        "output": {"resolution": "720p", "fps": FPS, "crf": CRF, "preset": preset},
        "cache": False,
    }  # fmt: skip


def settings_env(preset: str) -> dict[str, str]:
    return {"RENDER_PART_CLIPS": "0", "MAX_DURATION_SECONDS": "3600", "X264_PRESET": preset}


# -- running things ----------------------------------------------------------------------------


@contextmanager
def pinned(cpus: set[int]) -> Iterator[None]:
    """Every thread of this process (and so every child it spawns meanwhile) on `cpus`."""
    before = os.sched_getaffinity(0)

    def every_thread(to: set[int]) -> None:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), to)
            except OSError:
                pass  # a thread that just ended

    every_thread(cpus)
    try:
        yield
    finally:
        every_thread(before)


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(argv: list[str], cwd: Path, log: Path) -> tuple[float, float]:
    """One process to its end: (wall, its own user + system seconds, by wait4)."""
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise RenderFailed(f"{argv[0]} … failed (exit {proc.returncode}); {log}:\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime


def frame_count(path: Path) -> int | None:
    cmd = [FFPROBE, "-v", "error", "-count_packets", "-select_streams", "v:0",
           "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        return int(done.stdout.strip().split(",")[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class Item:
    name: str  #: "sound" or "part k"
    seconds: float  #: of output
    worker: int
    start: float  #: from the parallel phase's start
    wall: float
    cpu: float


def pool(items: list[tuple[str, float, list[str]]], cwd: Path) -> tuple[float, list[Item]]:
    """Two workers, worker k under `taskset -c k`, each taking the next item of one list."""
    todo = list(items)
    lock = threading.Lock()
    done: list[Item] = []
    failed: list[BaseException] = []
    began = time.perf_counter()

    def worker(k: int) -> None:
        while not failed:
            with lock:
                if not todo:
                    return
                name, seconds, argv = todo.pop(0)
            start = time.perf_counter() - began
            try:
                wall, cpu = run_one(["taskset", "-c", str(CORES[k]), *argv], cwd,
                                    cwd / f"{name.replace(' ', '')}.log")  # fmt: skip
            except BaseException as exc:
                failed.append(exc)
                return
            with lock:
                done.append(Item(name, seconds, k, start, wall, cpu))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(CORES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise failed[0]
    return time.perf_counter() - began, done


@dataclass
class Run:
    wall: float  #: FFmpeg phases (one pass: its one FFmpeg; split: parallel phase + join)
    cpu: float
    frames: int | None
    items: list[Item] = field(default_factory=list)
    parallel: float = 0.0
    join: float = 0.0


@dataclass
class Round:
    compile_s: float
    prepare_s: float
    runs: dict[str, Run] = field(default_factory=dict)


def clear(work: Path, *names: str) -> None:
    for name in names:
        (work / name).unlink(missing_ok=True)
    for old in work.glob("part*.mp4"):
        old.unlink()


# -- the simulation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """The measured rates the simulation scales (seconds of one core per second of output)."""

    seconds: float  #: the measured composition's
    part_fixed: float  #: a: a part's fixed wall, whatever its length
    part_rate: float  #: r: a part's wall per second of output, one core
    sound_rate: float  #: s: the sound part's wall per second of output, one core
    prepare_rate: float  #: p: prepare_split's wall per second of output
    join_rate: float  #: j: the join's wall per second of output
    today_rate: float  #: u: one instance today, compile + one pass on both cores, per second

    def parts(self, seconds: float, instances: int, best: bool) -> int:
        """K: the service's (graph/split.py `Sizing`: about 30 s each, at most 16, in whole
        waves of the 2N slots), or (`best`) the count of parts ≥ 20 s that is quickest."""
        slots = 2 * instances
        if not best:
            chunk = round(SIM_CHUNK_S * 1000)
            asks = seams.Sizing(chunk_ms=chunk, max_parts=SIM_MAX_PARTS, slots=slots)
            return asks.count(round(seconds * 1000))
        most = max(1, int(seconds // MIN_PART_S))
        return min(range(1, most + 1), key=lambda k: self.split_wall(seconds, slots, k))

    def split_wall(self, seconds: float, slots: int, parts: int) -> float:
        """prepare + the list scheduled on `slots` one-core slots (the sound first) + join."""
        items = [self.sound_rate * seconds] + [
            self.part_fixed + self.part_rate * seconds / parts
        ] * parts
        free = [0.0] * slots
        for t in items:
            k = free.index(min(free))
            free[k] += t
        return (self.prepare_rate + self.join_rate) * seconds + max(free)

    def speedup(self, seconds: float, instances: int, best: bool) -> float:
        parts = self.parts(seconds, instances, best)
        return self.today_rate * seconds / self.split_wall(seconds, 2 * instances, parts)


def model(rounds: list[Round], seconds: float) -> Model:
    med = statistics.median
    one = med([r.compile_s + r.runs[ONE_FREE].wall for r in rounds])
    items = [i for r in rounds for i in r.runs[SPLIT_PINNED].items]
    parts = [i for i in items if i.name != SOUND]
    k = len(parts) / len(rounds)
    sound = med([i.wall for i in items if i.name == SOUND])
    part_sum = sum(i.wall for i in parts) / len(rounds)
    one_pinned = med([r.runs[ONE_PINNED].wall for r in rounds])
    fixed = max(0.0, (part_sum + sound - one_pinned) / k)
    rate = (part_sum - k * fixed) / seconds
    return Model(
        seconds=seconds,
        part_fixed=fixed,
        part_rate=rate,
        sound_rate=sound / seconds,
        prepare_rate=max(r.prepare_s for r in rounds) / seconds,  # the cold one
        join_rate=med([r.runs[SPLIT_PINNED].join for r in rounds]) / seconds,
        today_rate=one / seconds,
    )


# -- the report --------------------------------------------------------------------------------


def report(opts: Options, rounds: list[Round], seconds: float, parts: list[tuple[int, int]],
           frames: int) -> tuple[list[str], tuple[str, ...]]:  # fmt: skip
    med = statistics.median
    clips, preset = opts.integer("clips"), opts.text("preset")

    def wall(name: str, with_prep: bool = True) -> float:
        return med([(r.compile_s if name in (ONE_PINNED, ONE_FREE) else r.prepare_s)
                    * with_prep + r.runs[name].wall for r in rounds])  # fmt: skip

    def cpu(name: str) -> float:
        return med([r.runs[name].cpu for r in rounds])

    speedup = wall(ONE_PINNED) / wall(SPLIT_PINNED)
    speedup_ff = wall(ONE_PINNED, False) / wall(SPLIT_PINNED, False)
    unpinned = wall(SPLIT_FREE) / wall(ONE_FREE)
    unpinned_ff = wall(SPLIT_FREE, False) / wall(ONE_FREE, False)
    prep = max(r.prepare_s for r in rounds)  # round 1's, cold: the conservative one
    join = med([r.runs[SPLIT_PINNED].join for r in rounds])
    tail = (prep + join) / wall(SPLIT_PINNED)
    busy = med([sum(i.wall for i in r.runs[SPLIT_PINNED].items) for r in rounds])
    balanced = busy / len(CORES) + prep + join
    ok_frames = all(run.frames == frames for r in rounds for run in r.runs.values())
    m = model(rounds, seconds)
    ten = {n: m.speedup(600.0, n, False) for n in (4, 8)}
    missed = [
        what
        for what, bad in (
            (f"split speedup N=2 {speedup:.2f}×", speedup < TARGET_SPEEDUP),
            (f"unpinned split/one pass {unpinned:.3f}", unpinned > TARGET_UNPINNED),
            *(
                (f"simulated 10 min N={n} {s:.2f}×", s < TARGET_EFFICIENCY * n)
                for n, s in ten.items()
            ),
            ("a split output's frame count differs", not ok_frames),
        )
        if bad
    ]
    fades = sum(f for *_, f in layout(clips))
    lengths = ", ".join(f"{(b - a) / FPS:g}" for a, b in parts)
    lines = [
        f"- the composition: {clips} clips of {CLIP_SECONDS:g} s from {SOURCES} sources "
        f"({', '.join(k[0] for k in KINDS)} in turn; each source used up to three times from a "
        f"different point), {fades} crossfades of {XFADE_SECONDS:g} s, cuts elsewhere: "
        f"{seconds:g} s, {frames} frames; a title, {int(seconds // CUE_EVERY)} caption cues, "
        f"music; 1280x720 {FPS} fps CRF {CRF} preset **{preset}**",
        f"- the split: chunk {opts.integer('chunk_seconds')} s, at most "
        f"{opts.integer('max_parts')} parts: {len(parts)} video parts of {lengths} s, plus the "
        "sound part; built with RENDER_PART_CLIPS=0 (every part one FFmpeg, under `taskset`), "
        "the one pass too; MAX_DURATION_SECONDS=3600",
        f"- {len(rounds)} rounds, each: the split prepared and the one pass compiled (both pinned "
        "to core 0, timed), then the four contenders in rotating order; vidsvc caches fonts and "
        "probes per process, so only round 1's prepare is cold (the compile after it and every "
        "later round are warm): the tail and the model take the cold prepare",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| speedup, N = 2 one-core instances: one pass on core 0 / split on cores 0 and 1, wall "
        f"with compile/prepare, medians | {wall(ONE_PINNED):.2f} s / {wall(SPLIT_PINNED):.2f} s"
        f" = **{speedup:.2f}×** | ≥ {TARGET_SPEEDUP}× | {met(speedup >= TARGET_SPEEDUP)} |",
        f"| the same, FFmpeg phases only (one pass / parallel phase + join) | "
        f"{wall(ONE_PINNED, False):.2f} s / {wall(SPLIT_PINNED, False):.2f} s = "
        f"{speedup_ff:.2f}× | – | – |",
        f"| the same, were the two workers balanced (Σ their busy time / 2 + prepare + join; "
        f"derived, not run) | {wall(ONE_PINNED):.2f} s / {balanced:.2f} s = "
        f"{wall(ONE_PINNED) / balanced:.2f}× | – | – |",
        f"| serial tail of the split: prepare (round 1's, cold) + join (the sound runs in the "
        f"parallel phase; no upload locally), of the median split wall | {prep:.2f} s + "
        f"{join:.2f} s = **{tail:.1%}** of its wall | – | – |",
        f"| CPU: split (every part, the sound, the join) / one pass, pinned | "
        f"{cpu(SPLIT_PINNED):.1f} s / {cpu(ONE_PINNED):.1f} s = "
        f"{cpu(SPLIT_PINNED) / cpu(ONE_PINNED):.3f} | – | – |",
        f"| one unpinned instance splitting (`run_split`, 2 at once) / one pass unpinned, wall "
        f"with prepare/compile | {wall(SPLIT_FREE):.2f} s / {wall(ONE_FREE):.2f} s = "
        f"**{unpinned:.3f}** | ≤ {TARGET_UNPINNED} | {met(unpinned <= TARGET_UNPINNED)} |",
        f"| the same, FFmpeg phases only | {wall(SPLIT_FREE, False):.2f} s / "
        f"{wall(ONE_FREE, False):.2f} s = {unpinned_ff:.3f} | – | – |",
        f"| CPU: split unpinned / one pass unpinned | {cpu(SPLIT_FREE):.1f} s / "
        f"{cpu(ONE_FREE):.1f} s = {cpu(SPLIT_FREE) / cpu(ONE_FREE):.3f} | – | – |",
        *(f"| simulated, 10 min on N = {n} instances of 2 cores, 30 s parts: speedup over one "
          f"instance today | **{s:.2f}×** ({s / n:.2f} N) | ≥ {TARGET_EFFICIENCY * n:g}× "
          f"({TARGET_EFFICIENCY} N) | {met(s >= TARGET_EFFICIENCY * n)} |"
          for n, s in ten.items()),
        f"| frame count of every output (ffprobe `-count_packets`) against the one pass's | "
        f"{'all ' + str(frames) if ok_frames else 'see the runs'} | equal | {met(ok_frames)} |",
        "",
        *runs_table(rounds),
        "",
        *phases_table(rounds),
        "",
        *parts_table(rounds),
        "",
        *simulation(m, (wall(SPLIT_PINNED), wall(SPLIT_FREE))),
    ]  # fmt: skip
    return lines, tuple(missed)


def runs_table(rounds: list[Round]) -> list[str]:
    lines = [
        "| contender | wall per round (s, FFmpeg phases) | compile/prepare (s) | median wall "
        "with it (s) | CPU per round (s) | frames per round |",
        "|---|---|---|---|---|---|",
    ]
    for name in (ONE_PINNED, SPLIT_PINNED, ONE_FREE, SPLIT_FREE):
        runs = [r.runs[name] for r in rounds]
        prep = [r.compile_s if name in (ONE_PINNED, ONE_FREE) else r.prepare_s for r in rounds]
        lines.append(
            f"| {name} | {', '.join(f'{x.wall:.2f}' for x in runs)} | "
            f"{', '.join(f'{p:.2f}' for p in prep)} | "
            f"{statistics.median([x.wall + p for x, p in zip(runs, prep, strict=True)]):.2f} | "
            f"{', '.join(f'{x.cpu:.1f}' for x in runs)} | "
            f"{', '.join(str(x.frames) for x in runs)} |"
        )
    return [
        *lines,
        "",
        "CPU: each FFmpeg's user + system (wait4), and for the join and `run_split` every child "
        "they waited for (their Python's own CPU not counted: a few tenths of a second).",
    ]


def phases_table(rounds: list[Round]) -> list[str]:
    lines = [
        "The pinned split, round by round: where its wall goes.",
        "",
        "| round | prepare (s) | parallel phase (s) | worker 0 busy (s) | worker 1 busy (s) | "
        "idle at the end of the phase (s) | join (s) | wall (s) | tail share |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, r in enumerate(rounds):
        run = r.runs[SPLIT_PINNED]
        busy = [sum(i.wall for i in run.items if i.worker == w) for w in range(len(CORES))]
        total = r.prepare_s + run.wall
        lines.append(
            f"| {k + 1} | {r.prepare_s:.2f} | {run.parallel:.2f} | {busy[0]:.2f} | "
            f"{busy[1]:.2f} | {max(busy) - min(busy):.2f} | {run.join:.2f} | {total:.2f} | "
            f"{(r.prepare_s + run.join) / total:.1%} |"
        )
    return lines


def parts_table(rounds: list[Round]) -> list[str]:
    names = [i.name for i in sorted(rounds[0].runs[SPLIT_PINNED].items, key=lambda i: i.start)]
    lines = [
        "Each item of the pinned split (one core each), medians over the rounds:",
        "",
        "| item | output (s) | workers | wall (s) | CPU (s) | wall per output second |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        got = [i for r in rounds for i in r.runs[SPLIT_PINNED].items if i.name == name]
        w, c = statistics.median(i.wall for i in got), statistics.median(i.cpu for i in got)
        lines.append(
            f"| {name} | {got[0].seconds:g} | {','.join(str(i.worker) for i in got)} | "
            f"{w:.2f} | {c:.2f} | {w / got[0].seconds:.3f} |"
        )
    return lines


def simulation(
    m: Model,
    measured: tuple[float, float],
    names: tuple[str, str] = ("the pinned split", "`run_split` unpinned"),
    parts: int = 0,
) -> list[str]:
    """The model's table; `measured`: the two measured splits it is checked against, named
    by `names`, split in `parts` video parts (0: round(D / 30 s))."""
    head = " | ".join(f"N = {n}" for n in SIM_INSTANCES)
    serial = m.prepare_rate + m.join_rate + m.sound_rate
    k = parts or round(m.seconds / SIM_CHUNK_S)
    check = m.split_wall(m.seconds, 2, k)
    lines = [
        "### Simulation: N instances of 2 cores",
        "",
        "The model, from this run's medians (per second of output D, one core):",
        "",
        f"- a video part of L s takes a + r·L on one core: r = {m.part_rate:.3f} s/s, "
        f"a = {m.part_fixed:.2f} s (a part's fixed cost: Σ parts + sound − the pinned one "
        "pass, per part, at least 0);",
        f"- the sound part takes s·D on one core: s = {m.sound_rate:.4f} s/s; prepare p·D and "
        f"the join j·D, serial: p = {m.prepare_rate:.4f}, j = {m.join_rate:.4f} s/s (both "
        "scale with the clips and packets, so with D); no upload (locally none; on S3 add "
        "the parts' bytes over the bandwidth);",
        "- an instance of 2 cores runs **2 parts at once, one per core**, each at the one-core "
        "rate measured above (measured with two parts side by side on this VM's two cores);",
        "- K as the service plans it (graph/split.py `Sizing`): about D / 30 s parts, each ≥ "
        f"20 s, at most {SIM_MAX_PARTS} (SPLIT_MAX_PARTS), moved to whole waves of the 2N "
        "slots (K + 1, the sound counted, a multiple of 2N); the sound first, then the parts, "
        "each item to the first free slot (the bench's pool); T_N = p·D + makespan + j·D;",
        f"- one instance today: compile + one pass on both cores, u·D, u = {m.today_rate:.3f} "
        "s/s (the unpinned one pass, measured); speedup S_N = u·D / T_N.",
        "",
        "So T_N ≈ (p + j)·D + max(s·D, W·(a + r·D/K)) with W = ceil((K + 1) / 2N) waves, and "
        "S_N = u·D / T_N. The sound part is one item of s·D, so the critical path is never "
        f"shorter than (p + s + j)·D: **S_N ≤ u / (p + s + j) = {m.today_rate / serial:.2f}×, "
        "whatever N and D**, once the parts' waves are shorter than the sound (the serial "
        f"tail with the sound is {serial / m.today_rate:.1%} of today's one-instance time).",
        f"- model check: the measured {m.seconds:.0f} s on 2 one-core slots, K = "
        f"{k}: the model gives {check:.2f} s; measured: "
        f"{names[0]} {measured[0]:.2f} s, {names[1]} {measured[1]:.2f} s (medians, with "
        "prepare).",
        "- baseline: one instance **today** renders in one pass, which on this VM keeps only "
        f"about {m.today_rate and (m.part_rate + m.sound_rate) / m.today_rate:.2f} cores busy "
        "(one-core rate / two-core rate), so S_1 > 1: the split alone is faster on one "
        "instance. In brackets: S_N / N, and S_N / S_1 (the scaling over one instance that "
        "splits too).",
        "",
        f"| composition | {head} |",
        "|---|" + "---|" * len(SIM_INSTANCES),
    ]
    for minutes in SIM_MINUTES:
        d = minutes * 60.0
        one = m.speedup(d, 1, False)
        cells = [f"{s:.2f}× ({s / n:.2f} N; {s / one / n:.2f} N; K = {m.parts(d, n, False)})"
                 for n in SIM_INSTANCES for s in [m.speedup(d, n, False)]]  # fmt: skip
        lines.append(f"| {minutes} min | {' | '.join(cells)} |")
    lines += [
        "",
        "The same with the quickest K (parts of any length ≥ 20 s, the count that minimises "
        "T_N), what a plan that knew the rates could ask for:",
        "",
        f"| composition | {head} |",
        "|---|" + "---|" * len(SIM_INSTANCES),
    ]
    for minutes in SIM_MINUTES:
        d = minutes * 60.0
        cells = [f"{m.speedup(d, n, True):.2f}× ({m.parts(d, n, True)} parts)"
                 for n in SIM_INSTANCES]  # fmt: skip
        lines.append(f"| {minutes} min | {' | '.join(cells)} |")
    return lines


# -- the run -----------------------------------------------------------------------------------


def run(ctx: Context, opts: Options) -> list[Section]:
    clips, preset, runs = opts.integer("clips"), opts.text("preset"), opts.integer("runs")
    chunk_ms, max_parts = opts.integer("chunk_seconds") * 1000, opts.integer("max_parts")
    media, work = ctx.out / "media", ctx.out / "split"
    print(f"split's media in {media}:")
    ensure([*preview_assets(SOURCES)], media, force=ctx.force_media)
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "spec.json"
    spec.write_text(json.dumps(composition(media, clips, preset), indent=1) + "\n")
    env = settings_env(preset)
    rounds: list[Round] = []
    shape: tuple[float, list[tuple[int, int]], int] | None = None
    for round_no in range(runs):
        one_work, split_work = work / "one", work / "parts"
        with pinned({CORES[0]}), environment(env):
            prepared = seams_prepare(spec, split_work, env, chunk_ms, max_parts)
            started = time.perf_counter()
            compiled = seams_compile(spec, one_work, preset)
            compile_s = time.perf_counter() - started
        seconds = prepared.frames / prepared.fps
        shape = (seconds, list(prepared.parts), prepared.frames)
        current = Round(compile_s, prepared.seconds)
        print(f"  round {round_no + 1}/{runs}: compiled in {compile_s:.2f} s, split prepared "
              f"in {prepared.seconds:.2f} s: {len(prepared.parts)} parts")  # fmt: skip
        for name in round_order([ONE_PINNED, SPLIT_PINNED, ONE_FREE, SPLIT_FREE], round_no):
            got = play(name, compiled, one_work, prepared)
            current.runs[name] = got
            print(f"  run {round_no + 1}/{runs}  {name:<42} {got.wall:7.2f} s  (cpu "
                  f"{got.cpu:6.1f} s, frames {got.frames}, "
                  f"load {os.getloadavg()[0]:.1f})")  # fmt: skip
        rounds.append(current)
    assert shape is not None
    (work / "rounds.json").write_text(json.dumps([asdict(r) for r in rounds], indent=1) + "\n")
    seconds, parts, frames = shape
    lines, missed = report(opts, rounds, seconds, parts, frames)
    return [Section("split", MEASURE.question, lines, missed=missed)]


def play(name: str, argv: list[str], one_work: Path, job: seams.SplitPrepared) -> Run:
    if name in (ONE_PINNED, ONE_FREE):
        return one_pass(argv, one_work, pin=name == ONE_PINNED)
    return split_pinned(job) if name == SPLIT_PINNED else split_free(job)


def seams_compile(spec: Path, work: Path, preset: str) -> list[str]:
    """The one pass's command, compiled in a fresh `work` (RENDER_PART_CLIPS from the
    environment: one FFmpeg)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    argv, _ = seams.compile_command(spec, work, preset)
    if "rawvideo" in argv:  # its pictures would come from parts through a pipe
        raise RenderFailed("the one pass is made by parts: RENDER_PART_CLIPS=0 was not seen")
    return argv


def seams_prepare(
    spec: Path, work: Path, env: dict[str, str], chunk_ms: int, max_parts: int
) -> seams.SplitPrepared:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    asks = seams.Sizing(chunk_ms=chunk_ms, max_parts=max_parts)
    return seams.split_prepare(spec, work, env, asks)


def one_pass(argv: list[str], work: Path, *, pin: bool) -> Run:
    out = work / "out.mp4"
    out.unlink(missing_ok=True)
    prefix = ["taskset", "-c", str(CORES[0])] if pin else []
    wall, cpu = run_one([*prefix, *argv], work, work / f"one-{'pinned' if pin else 'free'}.log")
    return Run(wall, cpu, frame_count(out))


def split_pinned(job: seams.SplitPrepared) -> Run:
    clear(job.work, job.output.name, "audio.m4a")
    fps = job.fps
    items = [(SOUND, job.frames / fps, list(job.sound))] + [
        (f"part {k}", (b - a) / fps, list(argv))
        for k, ((a, b), argv) in enumerate(zip(job.parts, job.video, strict=True))
    ]
    parallel, done = pool(items, job.work)
    before = children_cpu()
    with pinned({CORES[0]}):
        join = seams.split_join(job.work)
    cpu = sum(i.cpu for i in done) + children_cpu() - before
    return Run(parallel + join, cpu, frame_count(job.output), done, parallel, join)


def split_free(job: seams.SplitPrepared) -> Run:
    clear(job.work, job.output.name, "audio.m4a")
    before = children_cpu()
    wall = seams.split_run(job.work, at_once=2)
    return Run(wall, children_cpu() - before, frame_count(job.output))


MEASURE = Measure(
    name="split",
    question="how does a split render scale on two cores, and what is its serial tail?",
    takes="about 7 minutes (2 rounds of a 192 s composition at veryfast: the one pass and "
    "the split pinned to one core per instance, and both unpinned; 1 more the first time, for "
    "the media)",
    quick_note="10 clips (53.5 s, 2 parts) at ultrafast, 1 round: about 1 minute",
    run=run,
    defaults={"runs": 2, "preset": "veryfast", "clips": 36, "chunk_seconds": 30,
              "max_parts": 16},
    quick={"runs": 1, "preset": "ultrafast", "clips": 10, "chunk_seconds": 20, "max_parts": 4},
)  # fmt: skip
