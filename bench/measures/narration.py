"""What does a narrated short cost against the commands an expert would type, and how quick is
its plan?

A 10-scene vertical short (720x1280, 30 fps): six silent video clips of 4 to 8 s in four shapes
(three shorter than their narration, so they are held) and four stills (PNG, JPEG), each scene
narrated by FFmpeg's `flite` voice (a sentence, then 0.3 to 0.8 s of silence, as TTS engines
leave it), every clip `duration: "voiceover"`, five 0.5 s crossfades, word timings split evenly
over each sentence's speech and captioned in `highlight` mode, one music bed (75 s, trimmed)
ducked under every narration, and a loudness target of -14 LUFS. Three contenders in rotating
rounds, medians:
- the service: POSTed to a real `vidsvc serve` and awaited on its WebSocket (as `overhead`),
  each job with fresh copies of the narrations (new bytes: every short's narrations are new,
  so the measurement is never a cache hit);
- `vidsvc render` (a fresh process: it measures every time);
- the hand-written route (bench.contenders.narrated): ten `silencedetect` FFmpegs started at
  once, the clip lengths and the ASS captions worked out from them, an `ebur128` analysis pass
  of the audio, then the one render command: every step inside its wall time.
Then the narration measurement's share of each service job (metadata
`sound.narration.measure_seconds` / the job's wall), and the dry run (`POST ?dry_run=true`):
the server's first, then with new narrations each time, then warm; and the dry run's own steps
timed in process (bench.seams.plan_steps).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import aiohttp

from bench import seams
from bench.contenders import narrated
from bench.harness.api import (
    COMPOSITIONS,
    STAGES,
    Submitted,
    breakdown,
    output_duration,
    service_once,
    stamp,
)
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.media import probe_duration
from bench.harness.report import met
from bench.harness.server import Server, client_timeout, serving
from bench.harness.threads import x264_threads
from bench.harness.timing import RAW, RENDER, Contender, round_order, spread, timed
from sample_specs.media import (
    FFMPEG,
    Asset,
    VideoRecipe,
    ensure,
    music_asset,
    still_asset,
    video_asset,
)

SERVICE = "vidsvc service: POST → WS completed"
TARGET_RATIO = 1.05
TARGET_SHARE = 0.03
TARGET_DRY_RUN = 0.5
NOISY = 1.15  #: the raw command's max/min wall beyond which other load blurred the run
WIDTH, HEIGHT, FPS, CRF = 720, 1280, 30, 21
XFADE = 0.5
PADDING = 0.25  #: voiceover_padding's default
MUSIC_VOLUME = 0.5
TARGET_LUFS = -14.0
CAPTION_SIZE = 52
CAPTION_OUTLINE = 3
#: The dry run's steps, as seams.plan_steps times them.
STEPS = ("stage", "probe", "measure", "plan")


@dataclass(frozen=True)
class Narration:
    name: str
    text: str  #: no ' or : (lavfi would read them)
    speech: float  #: seconds flite speaks it (its own output's duration)
    rate: int  #: sample rate of the file
    tail: float  #: seconds of silence appended

    def asset(self) -> Asset:
        graph = (
            f"flite=voice=slt:text='{self.text}',aresample={self.rate},apad=pad_dur={self.tail:g}"
        )
        codec = ("-c:a", "libmp3lame", "-b:a", "64k") if self.name.endswith(".mp3") else (
            "-c:a", "pcm_s16le")  # fmt: skip
        return Asset(self.name, round(self.speech + self.tail, 3), audio=graph, codec_args=codec)

    def words(self) -> list[dict[str, object]]:
        """Word timings split evenly over the speech, from the narration's start."""
        words = self.text.split()
        step = self.speech / len(words)
        return [
            {"start": round(k * step, 3), "end": round((k + 1) * step, 3), "text": w}
            for k, w in enumerate(words)
        ]


@dataclass(frozen=True)
class Scene:
    visual: str  #: a media file name: a clip (VISUALS) or a still (STILLS)
    narration: Narration
    crossfade: bool  #: a crossfade into this scene (else a cut)


VIDEOS = (
    VideoRecipe("narr_v1_portrait.mp4", 8, (720, 1280), "testsrc2=s=720x1280:r=30,hue=h=t*30"),
    VideoRecipe("narr_v2_landscape.mp4", 4, (1280, 720),
                "smptebars=s=1280x720:r=25,scroll=h=0.004"),
    VideoRecipe("narr_v3_portrait.mp4", 6, (720, 1280), "testsrc2=s=720x1280:r=30,hue=h=t*60"),
    VideoRecipe("narr_v4_phone.mp4", 4, (1080, 1920), "testsrc2=s=1080x1920:r=30"),
    VideoRecipe("narr_v5_square60.mp4", 4, (1080, 1080),
                "testsrc2=s=1080x1080:r=60,hue=h=t*90"),
    VideoRecipe("narr_v6_portrait25.mp4", 7, (720, 1280), "testsrc2=s=720x1280:r=25,negate"),
)  # fmt: skip
STILLS = (
    still_asset("narr_s1.png", "testsrc2=s=1080x1920,hue=h=120", (1080, 1920)),
    still_asset("narr_s2.jpg", "mandelbrot=s=1280x720:maxiter=200", (1280, 720)),
    still_asset("narr_s3.jpg", "cellauto=s=1080x1080:rule=30:full=1", (1080, 1080)),
    still_asset("narr_s4.png", "gradients=s=720x1280:n=4:seed=7", (720, 1280)),
)
MUSIC = music_asset("narr_music.mp3", 75.0)
NARRATIONS = (
    Narration("narr_1.mp3", "Every great city has a story, and this one begins before sunrise.",
              4.56, 24000, 0.5),
    Narration("narr_2.wav", "The bakers are the first to wake.", 2.155, 16000, 0.3),
    Narration("narr_3.mp3", "By six the market is full of color, noise and the smell of fresh "
              "bread from a dozen ovens.", 5.145, 44100, 0.8),
    Narration("narr_4.wav", "Trains carry thousands of people across the wide river.",
              3.395, 22050, 0.4),
    Narration("narr_5.mp3", "At noon the old square fills with music.", 2.585, 24000, 0.6),
    Narration("narr_6.wav", "Street artists paint the walls in bright colors while tourists "
              "stop to watch and take pictures of every corner.", 6.6, 16000, 0.7),
    Narration("narr_7.mp3", "The afternoon light turns everything gold.", 2.715, 44100, 0.35),
    Narration("narr_8.wav", "Workers head home as the bridges light up one by one across the "
              "dark water.", 3.935, 24000, 0.55),
    Narration("narr_9.mp3", "Night brings a different rhythm.", 1.855, 22050, 0.45),
    Narration("narr_10.wav", "Tomorrow it all starts again. Thanks for watching.",
              3.045, 16000, 0.75),
)  # fmt: skip
#: Scenes alternate a cut and a crossfade in; v2, v4 and v5 are shorter than their narration.
SCENES = tuple(
    Scene(visual, voice, crossfade=k % 2 == 1)
    for k, (visual, voice) in enumerate(
        zip(
            ["narr_v1_portrait.mp4", "narr_s1.png", "narr_v2_landscape.mp4",
             "narr_v3_portrait.mp4", "narr_s2.jpg", "narr_v4_phone.mp4", "narr_s3.jpg",
             "narr_v5_square60.mp4", "narr_s4.png", "narr_v6_portrait25.mp4"],
            NARRATIONS,
            strict=True,
        )
    )
)  # fmt: skip


def assets() -> list[Asset]:
    return [
        *(video_asset(r, preset="veryfast") for r in VIDEOS),
        *STILLS,
        MUSIC,
        *(n.asset() for n in NARRATIONS),
    ]


def composition(
    media: Path, scenes: tuple[Scene, ...], preset: str, voices: dict[str, Path] | None = None
) -> dict[str, Any]:
    """The short as vidsvc JSON, every input a file:// URL (`voices`: narration copies)."""
    clips: list[dict[str, Any]] = []
    for scene in scenes:
        voice = (voices or {}).get(scene.narration.name, media / scene.narration.name)
        clip: dict[str, Any] = {
            "url": (media / scene.visual).resolve().as_uri(),
            "duration": "voiceover",
            "voiceover_url": voice.resolve().as_uri(),
            "voiceover_words": scene.narration.words(),
        }
        if scene.crossfade:
            clip |= {"transition_in": "crossfade", "transition_duration": XFADE}
        clips.append(clip)
    return {
        "clips": clips,
        "captions": {
            "mode": "highlight",
            "style": {"size": CAPTION_SIZE, "outline": CAPTION_OUTLINE},
        },
        "audio": {
            "tracks": [
                {"url": (media / MUSIC.name).resolve().as_uri(), "role": "music",
                 "volume": MUSIC_VOLUME}
            ],
            "ducking": True,
            "loudness_lufs": TARGET_LUFS,
        },
        "output": {"resolution": "720p", "aspect_ratio": "9:16", "fps": FPS, "crf": CRF,
                   "preset": preset, "fit": "cover"},
    }  # fmt: skip


def fresh_voices(media: Path, scenes: tuple[Scene, ...], tag: str) -> dict[str, Path]:
    """Copies of the narrations with new bytes (a `comment` tag; the sound is the same), in
    media/narration-fresh/<tag>/: a narration the service has not measured yet."""
    dest = media / "narration-fresh" / tag
    dest.mkdir(parents=True, exist_ok=True)
    copies = {}
    for scene in scenes:
        name = scene.narration.name
        copy = dest / name
        subprocess.run(
            [FFMPEG, "-v", "error", "-nostdin", "-y", "-i", str(media / name), "-map", "0",
             "-c", "copy", "-metadata", f"comment=bench {tag}", str(copy)],
            check=True,
        )  # fmt: skip
        copies[name] = copy
    return copies


def raw_job(media: Path, scenes: tuple[Scene, ...], preset: str) -> dict[str, Any]:
    """What the hand-written route is given: the inputs and the numbers the spec says."""
    stills = {s.name for s in STILLS}
    return {
        "scenes": [
            {"visual": str((media / s.visual).resolve()), "still": s.visual in stills,
             "voice": str((media / s.narration.name).resolve()), "crossfade": s.crossfade,
             "words": s.narration.words()}
            for s in scenes
        ],
        "music": str((media / MUSIC.name).resolve()), "music_volume": MUSIC_VOLUME,
        "xfade": XFADE, "padding": PADDING, "size": [WIDTH, HEIGHT], "fps": FPS,
        "preset": preset, "crf": CRF, "lufs": TARGET_LUFS, "limit": 0.841,
        "ducking": {"threshold": 0.05, "ratio": 8, "attack": 20, "release": 400},
        "font": "DejaVu Sans", "caption_size": 60, "outline": CAPTION_OUTLINE,
        "group_words": 6, "output": "out.mp4",
    }  # fmt: skip


@dataclass
class DryRuns:
    first: float  #: the server's first request: a fresh process, nothing cached
    fresh: list[float]  #: each with narrations it has not seen
    warm: list[float]  #: the same composition again
    plan: dict[str, Any]
    window: tuple[float, float] = (0.0, 0.0)  #: time.time() from the first to the last


@dataclass
class Service:
    jobs: list[Submitted]
    cpu: list[float]
    warmups: list[Submitted]
    dry: DryRuns
    raw_steps: list[dict[str, float]]  #: the hand-written route's steps, per run
    steps: tuple[list[dict[str, float]], dict[str, float]] = ([], {})  #: fresh, warm


async def dry_runs(
    session: aiohttp.ClientSession, server: Server, spec_for: Any, count: int
) -> DryRuns:
    url = f"{server.base}{COMPOSITIONS}?dry_run=true"

    async def once(spec: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        async with session.post(url, json=spec) as resp:
            body = await resp.json(content_type=None)
            took = time.perf_counter() - started
            if resp.status != 200:
                raise RuntimeError(f"dry run: {resp.status} {body}")
        return took, dict(body["plan"])

    specs = [await asyncio.to_thread(spec_for, f"dry{i}") for i in range(count + 1)]
    began = time.time()
    first, plan = await once(specs[0])
    print(f"  dry run, first on a fresh server  {first:6.3f} s")
    fresh = []
    for spec in specs[1:]:
        fresh.append((await once(spec))[0])
        print(f"  dry run, new narrations          {fresh[-1]:6.3f} s")
    warm = []
    for _ in range(count):
        warm.append((await once(specs[-1]))[0])
        print(f"  dry run, warm                    {warm[-1]:6.3f} s")
    return DryRuns(first, fresh, warm, plan, (began, time.time()))


async def rounds(
    opts: Options, media: Path, work: Path, scenes: tuple[Scene, ...], others: list[Contender]
) -> Service:
    """Dry runs on the fresh server, warm-ups, then the rounds in rotating order."""
    preset, runs = opts.text("preset"), opts.integer("runs")
    by_name = {c.name: c for c in others}
    jobs: list[Submitted] = []
    cpus: list[float] = []
    warmups: list[Submitted] = []
    raw_steps: list[dict[str, float]] = []

    def spec_for(tag: str) -> dict[str, Any]:
        return composition(media, scenes, preset, fresh_voices(media, scenes, tag))

    async with aiohttp.ClientSession(timeout=client_timeout()) as session:

        async def body(server: Server) -> DryRuns:
            dry = await dry_runs(session, server, spec_for, opts.integer("dry_runs"))
            for i in range(opts.integer("warmup")):
                spec = await asyncio.to_thread(spec_for, f"warmup{i}")
                job, _ = await service_once(session, server, spec)
                warmups.append(job)
                print(f"  warm-up {i + 1}  {SERVICE:<36} {job.wall:7.2f} s")
            for round_no in range(runs):
                spec = await asyncio.to_thread(spec_for, f"round{round_no}")
                for name in round_order([SERVICE, *by_name], round_no):
                    if name == SERVICE:
                        job, cpu = await service_once(session, server, spec)
                        jobs.append(job)
                        cpus.append(cpu)
                        wall = job.wall
                    else:
                        wall, cpu = await asyncio.to_thread(timed, by_name[name], work)
                        if name == RAW:
                            done = by_name[name].cwd / "steps.json"
                            raw_steps.append(json.loads(done.read_text())["steps"])
                    print(f"  run {round_no + 1}/{runs}  {name:<36} {wall:7.2f} s  (cpu "
                          f"{cpu:6.2f} s, load {os.getloadavg()[0]:.1f})")  # fmt: skip
            return dry

        server = Server(work / "server", media, opts.integer("server_jobs"))
        dry = await serving(session, server, body)
    return Service(jobs, cpus, warmups, dry, raw_steps)


def plan_steps(
    media: Path, scenes: tuple[Scene, ...], preset: str, count: int
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """The dry run's steps timed in this process: `count` times with new narrations, then the
    last composition again (its narrations measured: cached)."""
    fresh = []
    for i in range(count):
        doc = composition(media, scenes, preset, fresh_voices(media, scenes, f"steps{i}"))
        fresh.append(seams.plan_steps(doc))
        print(f"  dry run's steps in process, new narrations: {_shown(fresh[-1])}")
    warm = seams.plan_steps(doc)
    print(f"  dry run's steps in process, warm: {_shown(warm)}")
    return fresh, warm


def _shown(steps: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f} s" for k, v in steps.items() if k in STEPS)


def run(ctx: Context, opts: Options) -> list[Section]:
    preset = opts.text("preset")
    scenes = SCENES[: opts.integer("scenes")]
    media, work = ctx.out / "media", ctx.out / "narration"
    print(f"narrated short's media in {media}:")
    ensure(assets(), media, force=ctx.force_media)
    shutil.rmtree(media / "narration-fresh", ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    (work / "raw").mkdir(parents=True)
    spec = work / "spec.json"
    spec.write_text(json.dumps(composition(media, scenes, preset), indent=1) + "\n")
    job = work / "raw" / "job.json"
    job.write_text(json.dumps(raw_job(media, scenes, preset), indent=1) + "\n")
    raw = Contender(RAW, [sys.executable, narrated.__file__, job.name], work / "raw" / "out.mp4",
                    work / "raw")  # fmt: skip
    cli = Contender(RENDER, [sys.executable, "-m", "vidsvc", "render", "--quiet", str(spec),
                             str(work / "cli.mp4")], work / "cli.mp4", work)  # fmt: skip
    before = os.environ.get("ALLOWED_LOCAL_DIRS")
    os.environ["ALLOWED_LOCAL_DIRS"] = str(media.resolve())  # the CLI's inputs
    try:
        service = asyncio.run(rounds(opts, media, work, scenes, [cli, raw]))
        service.steps = plan_steps(media, scenes, preset, opts.integer("dry_runs"))
    finally:
        if before is None:
            os.environ.pop("ALLOWED_LOCAL_DIRS", None)
        else:
            os.environ["ALLOWED_LOCAL_DIRS"] = before
        shutil.rmtree(media / "narration-fresh", ignore_errors=True)
    (work / "service-job.json").write_text(json.dumps(service.jobs[-1].meta, indent=1) + "\n")
    lines, missed = report(opts, scenes, service, cli, raw)
    return [Section("narration", MEASURE.question, lines, missed=missed)]


def share(job: Submitted) -> tuple[float, float]:
    """(measure_seconds, its share of the job's wall) from the job's metadata."""
    sound = job.meta.get("sound") or {}
    seconds = float((sound.get("narration") or {}).get("measure_seconds") or 0.0)
    return seconds, seconds / job.wall


def report(
    opts: Options, scenes: tuple[Scene, ...], service: Service, cli: Contender, raw: Contender
) -> tuple[list[str], tuple[str, ...]]:
    preset = opts.text("preset")
    raw_wall, raw_cpu = median(raw.times), median(raw.cpu)
    svc_wall = median([j.wall for j in service.jobs])
    ratio, cli_ratio = svc_wall / raw_wall, median(cli.times) / raw_wall
    shares = [share(j) for j in service.jobs]
    part = median([s for _, s in shares])
    dry = service.dry
    fresh, warm = median(dry.fresh), median(dry.warm)
    missed = [
        what
        for what, bad in (
            (f"service/raw {ratio:.3f}", ratio > TARGET_RATIO),
            (f"CLI/raw {cli_ratio:.3f}", cli_ratio > TARGET_RATIO),
            (f"measurement share {part:.1%}", part > TARGET_SHARE),
            (f"dry run {fresh:.3f} s", fresh > TARGET_DRY_RUN),
            (f"warm dry run {warm:.3f} s", warm > TARGET_DRY_RUN),
        )
        if bad
    ]
    plan = dry.plan
    stills = sum(1 for s in scenes if s.visual in {a.name for a in STILLS})
    steps = json.loads((raw.cwd / "steps.json").read_text())
    lines = [
        f"- the short: {len(scenes)} scenes ({len(scenes) - stills} clips, {stills} stills), "
        f"{plan['duration']:g} s by vidsvc's plan ({len(plan.get('warnings') or [])} warnings: "
        f"clips held), {WIDTH}x{HEIGHT} {FPS} fps CRF {CRF} preset {preset}, "
        f"{sum(s.crossfade for s in scenes)} crossfades of {XFADE:g} s, word-highlight "
        f"captions, music ducked, {TARGET_LUFS:g} LUFS; the service in embedded mode, "
        f"MAX_CONCURRENT_JOBS={opts.integer('server_jobs')}, render cache and rate limit off",
        f"- {spread(raw.times)}",
        *noise_warning(raw.times),
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| the short through the service (POST → WS `completed`) vs the hand-written route, "
        f"wall, median of {len(service.jobs)} | {svc_wall:.2f} s vs {raw_wall:.2f} s: "
        f"**{ratio:.3f}×** (CPU {median(service.cpu) / raw_cpu:.3f}×) | ≤ {TARGET_RATIO} | "
        f"{met(ratio <= TARGET_RATIO)} |",
        f"| `vidsvc render` vs the hand-written route, wall, median of {len(cli.times)} | "
        f"{median(cli.times):.2f} s: **{cli_ratio:.3f}×** "
        f"(CPU {median(cli.cpu) / raw_cpu:.3f}×) | ≤ {TARGET_RATIO} | "
        f"{met(cli_ratio <= TARGET_RATIO)} |",
        f"| narration measurement's share of the service job (metadata `measure_seconds` / "
        f"wall), uncached, median of {len(shares)} | {part:.2%} "
        f"({median([s for s, _ in shares]):.3f} s) | ≤ {TARGET_SHARE:.0%} | "
        f"{met(part <= TARGET_SHARE)} |",
        f"| dry run (`POST ?dry_run=true`), new narrations each time, median of {len(dry.fresh)} "
        f"| {fresh:.3f} s | ≤ {TARGET_DRY_RUN} s | {met(fresh <= TARGET_DRY_RUN)} |",
        f"| dry run, the same composition again (warm), median of {len(dry.warm)} | "
        f"{warm:.3f} s | ≤ {TARGET_DRY_RUN} s | {met(warm <= TARGET_DRY_RUN)} |",
        f"| dry run, the server's first request (nothing cached) | {dry.first:.3f} s | – | – |",
        "",
        *runs_table(service, cli, raw, float(plan["duration"])),
        "",
        "### Where the time goes (medians)",
        "",
        *split_lines(service, cli, raw),
        "",
        *dry_lines(service),
        "",
        *check_lines(steps, plan, service, cli, raw),
    ]
    return lines, tuple(missed)


def noise_warning(walls: list[float]) -> list[str]:
    """A spread beyond what this VM shows alone means other load: the wall ratios are noise."""
    if len(walls) < 2 or max(walls) / min(walls) <= NOISY:
        return []
    return [
        f"- warning: the raw command's spread ({max(walls) / min(walls):.2f}) is beyond the "
        f"{NOISY:.2f} this VM shows alone: other load shared the machine, so the wall ratios "
        "below are noise; read the CPU ratios"
    ]


def runs_table(service: Service, cli: Contender, raw: Contender, expected: float) -> list[str]:
    lines = ["| contender | wall per run (s) | median wall (s) | median CPU (s) | output (s) |",
             "|---|---|---|---|---|"]  # fmt: skip
    rows = [(SERVICE, [j.wall for j in service.jobs], service.cpu,
             [output_duration(j) for j in service.jobs])]  # fmt: skip
    rows += [(c.name, c.times, c.cpu, [probe_duration(c.output)]) for c in (cli, raw)]
    warnings = []
    for name, times, cpu, outputs in rows:
        shown = ", ".join("?" if d is None else f"{d:.3f}" for d in outputs)
        walls = ", ".join(f"{t:.2f}" for t in times)
        lines.append(f"| {name} | {walls} | {median(times):.2f} | {median(cpu):.2f} | {shown} |")
        if any(d is None or abs(d - expected) > 2.5 / FPS for d in outputs):
            warnings.append(f"- warning: {name} output is {shown} s, the plan {expected:g} s")
    return lines + ([""] if warnings else []) + warnings


def split_lines(service: Service, cli: Contender, raw: Contender) -> list[str]:
    """The service job's stages against the hand-written route's steps, and the gap between
    them, step by step."""
    steps = {k: median([s[k] for s in service.raw_steps]) for k in service.raw_steps[0]}
    splits = [breakdown(j) for j in service.jobs]
    names = ["post", "dispatch", *STAGES, "store", "notify"]
    med = {n: median([s[n] for s in splits]) for n in names}
    sound = [j.meta.get("sound") or {} for j in service.jobs]
    loud = median([float((s.get("loudness") or {}).get("analysis_seconds") or 0.0) for s in sound])
    measure = median([share(j)[0] for j in service.jobs])
    probe = median([s["probe"] for s in service.steps[0]]) if service.steps[0] else 0.0
    inputs = len(service.jobs[0].meta.get("inputs") or {})
    ffmpeg_cpu = median([float(j.meta.get("cpu_seconds") or 0.0) for j in service.jobs])
    rest = med["validating"] - measure - loud - probe
    before = steps["measure"] + steps["plan"] + steps["analysis"]
    walls = [j.wall for j in service.jobs]
    gap = median(walls) - median(raw.times)
    other = gap - (med["validating"] - before) - (med["encoding"] - steps["render"])
    notes = {
        "post": "POST round trip (validate, insert, 202)",
        "dispatch": "created_at → started_at",
        "queued": "set-up before staging",
        "downloading": f"staging {inputs} file:// inputs (symlinks)",
        "validating": "probe, fonts, narrations, plan, sound (loudness pass), graph, compile",
        "encoding": "the sound pass, then the main FFmpeg fed by its parts (`render_seconds`)",
        "uploading": "moving the outputs out of the workspace",
        "store": "blob put of video + thumbnail, output ffprobe, final write",
        "notify": "finished_at → the client holds `completed`",
    }
    hand = {"validating": before, "encoding": steps["render"]}
    rows = [
        f"| {n} | {med[n]:.3f} | {f'{hand[n]:.3f}' if n in hand else '–'} | {notes[n]} |"
        for n in names
    ]
    return [
        "| service job step | service (s) | hand-written (s) | what |",
        "|---|---|---|---|",
        *rows,
        f"| validating: probing the inputs | ≈ {probe:.3f} | – | one ffprobe per input, side "
        "by side (timed in process: the dry run's steps below) |",
        f"| validating: narration measurement | {measure:.3f} | {steps['measure']:.3f} | "
        "`sound.narration.measure_seconds`; hand-written: ten `silencedetect` at once |",
        f"| validating: loudness analysis pass | {loud:.3f} | {steps['analysis']:.3f} | "
        "`sound.loudness.analysis_seconds`; hand-written: its `ebur128` pass |",
        f"| validating: the rest | ≈ {rest:.3f} | {steps['plan']:.3f} | by difference: fonts, "
        "timeline, graph, compile; hand-written: the lengths and the ASS file |",
        "",
        f"- the gap, service − hand-written: {gap:+.2f} s = validating "
        f"{med['validating'] - before:+.2f} s (of which probing ≈ {probe:.2f} s, which the "
        f"hand-written route skips: it knows its files) + encoding "
        f"{med['encoding'] - steps['render']:+.2f} s (the sound pass, parts fed through a pipe, "
        f"the thumbnail, the 4× oversampled limiter) + the rest {other:+.2f} s (POST, "
        "dispatch, moving and storing the outputs, the notification)",
        f"- `vidsvc render` − the service: {median(cli.times) - median(walls):+.2f} s (a fresh "
        "Python: start-up and imports, ~0.45 s on this VM)",
        f"- FFmpeg's own CPU in the render (metadata `cpu_seconds`, the sound pass and the "
        f"main FFmpeg with its parts): {ffmpeg_cpu:.2f} s, median; the hand-written route's "
        f"CPU, every FFmpeg and Python: {median(raw.cpu):.2f} s",
        *(
            f"- warm-up service job, not counted: {j.wall:.2f} s, narration measurement "
            f"{share(j)[0]:.3f} s ({share(j)[1]:.2%})"
            for j in service.warmups
        ),
        *lag_lines(raw.cwd.parent / "server" / "server.log", service.dry.window),
    ]


def lag_lines(log: Path, window: tuple[float, float]) -> list[str]:
    """The server's event-loop lag warnings: during the dry runs, and during the jobs."""
    during: dict[bool, list[float]] = {True: [], False: []}
    for line in log.read_text(errors="replace").splitlines():
        if found := re.search(r"event loop lag ([0-9.]+) s", line):
            at = stamp(json.loads(line)["timestamp"])
            during[window[0] <= at <= window[1]].append(float(found.group(1)))
    shown = [
        f"{len(lags)} during the {what} (the loop held {min(lags):.3f}-{max(lags):.3f} s)"
        if lags else f"none during the {what}"
        for what, lags in (("dry runs", during[True]), ("jobs", during[False]))
    ]  # fmt: skip
    return ["", f"- the server's event-loop lag warnings: {'; '.join(shown)}"]


def dry_lines(service: Service) -> list[str]:
    fresh, warm = service.steps
    if not fresh:
        return []
    first = fresh[0]
    med = {k: median([s[k] for s in fresh]) for k in STEPS}
    lines = [
        f"The dry run's own steps (work/compositions/render.py `planned`), timed in the bench's "
        f"process by bench/seams.py `plan_steps`: {first['inputs']:.0f} inputs staged and "
        f"probed side by side, {first['narrations']:.0f} narrations measured side by side.",
        "",
        f"| step | the process's first (s) | new narrations, median of {len(fresh)} (s) | "
        "warm (s) |",
        "|---|---|---|---|",
        *(f"| {k} | {first[k]:.3f} | {med[k]:.3f} | {warm[k]:.3f} |" for k in STEPS),
        f"| sum | {sum(first[k] for k in STEPS):.3f} | {sum(med.values()):.3f} | "
        f"{sum(warm[k] for k in STEPS):.3f} |",
    ]
    if first["probe"] > 1.5 * med["probe"]:
        lines += [
            "",
            "- probes are cached by the files' bytes (media/probe.py): after a process's first "
            "plan only the new narrations are probed, and the clips, stills and music (the same "
            "files in every job) are not, in the service's jobs either (its dry runs came first)",
        ]
    return lines


def check_lines(
    steps: dict[str, Any], plan: dict[str, Any], service: Service, cli: Contender, raw: Contender
) -> list[str]:
    lengths = [c["end_time"] - c["start_time"] for c in plan["clips"]]
    diff = max(abs(a - b) for a, b in zip(lengths, steps["lengths"], strict=True))
    threads = {name: x264_threads(path) for name, path in
               (("CLI", cli.output), ("hand-written", raw.output))}  # fmt: skip
    return [
        f"- the hand-written clip lengths against vidsvc's plan: largest difference "
        f"{diff * 1000:.1f} ms; total {steps['total']:.3f} s against {plan['duration']:g} s",
        f"- the hand-written analysis pass measured {steps['measured_lufs']:g} LUFS",
        f"- x264 threads (threads, lookahead) recorded in the outputs: {threads}; both "
        f"H.264 CRF {CRF} at the same preset, {WIDTH}x{HEIGHT}, yuv420p, AAC 192k",
        "- the hand-written route does a little less than vidsvc: no thumbnail, its limiter at "
        "48 kHz (vidsvc's at 4× for true peaks), its ducking keyed by the voices as they are "
        "(vidsvc lifts and limits the key), no sound bed for the silent clips, no probing",
    ]


MEASURE = Measure(
    name="narration",
    question="what does a narrated short cost against the commands an expert would type, "
    "and how quick is its plan?",
    takes="about 4 minutes (3 rounds of 3 renders of a 37 s short, a warm-up, 21 dry runs)",
    quick_note="4 scenes at ultrafast, 1 round, 3 dry runs each way: about 40 s",
    run=run,
    defaults={"runs": 3, "warmup": 1, "preset": "medium", "server_jobs": 5, "scenes": 10,
              "dry_runs": 10},
    quick={"runs": 1, "preset": "ultrafast", "scenes": 4, "dry_runs": 3},
)  # fmt: skip
