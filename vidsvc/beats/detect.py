"""Beat detection of one staged input: probe, decode with FFmpeg, track, cache per input bytes.

FFmpeg (the one spawn site) decodes the first audio stream to mono float PCM at the tracker's
rate, at most MAX_SECONDS of it; the tracker (vidsvc/beats/tracker.py, numpy) then runs on this
module's own executor. `analyse` is the FFmpeg-heavy part and its caller holds a unit of the
concurrency budget for it: the route through service.py (a unit of the pool's budget), a
render's beat sync (work/compositions/sound.py) inside its job, which holds one already. So the
PCM only ever exists under a unit: at most MAX_CONCURRENT_JOBS decodes at once per process.

Nothing here runs on the event loop's default executor (renders need it, and a queue of
analyses must never fill it): blocking work goes to two small executors of this module,
TRACKER_THREADS threads for reading the PCM and tracking (the work under a unit) and
FILE_THREADS for hashing inputs and removing scratch directories (the work before and after),
so hashing a queue of large inputs never delays a tracker that holds a unit. Results are cached
per input bytes (sha256, CACHE_ENTRIES), so the route and a render's beat sync on the same
music analyse it once.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from vidsvc import spec
from vidsvc.beats.tracker import SAMPLE_RATE, Beats, NoBeats, Samples, track
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.graph.compile import global_args
from vidsvc.media import digest as file_digest
from vidsvc.media.ffmpeg import run_ffmpeg
from vidsvc.media.probe import probe

T = TypeVar("T")
#: Only the first 10 minutes are analysed (10.6 MB of PCM, ~1 s of tracking); beats stop there.
MAX_SECONDS = 600
CACHE_ENTRIES = 256
#: Trackers at once per process (a 600 s input: 50 MB of PCM and 163 MB more at the peak, by
#: tracemalloc); analyses beyond wait for a thread holding their unit, which bounds them anyway.
TRACKER_THREADS = 2
FILE_THREADS = 2  #: sha256 of staged inputs, removal of scratch directories
PCM_FILE = "beats.f32"
_TRACKER = ThreadPoolExecutor(TRACKER_THREADS, thread_name_prefix="vidsvc-beats-track")
_FILES = ThreadPoolExecutor(FILE_THREADS, thread_name_prefix="vidsvc-beats-files")


@dataclass(frozen=True, slots=True, kw_only=True)
class Detected:
    bpm: float | None  #: None: no steady beat found (an answer, not an error)
    beats: tuple[float, ...]  #: seconds
    duration: float  #: the input's probed duration, seconds
    analyzed_seconds: float  #: min(duration, MAX_SECONDS)
    sha256: str


_CACHE: OrderedDict[str, Detected] = OrderedDict()


def cached(sha256: str) -> bool:
    """True if the beats of the input with these bytes are in the cache."""
    return sha256 in _CACHE


def lookup(sha256: str) -> Detected | None:
    """The cached beats of the input with these bytes, if any."""
    found = _CACHE.get(sha256)
    if found is not None:
        _CACHE.move_to_end(sha256)
    return found


async def _on(pool: ThreadPoolExecutor, call: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(call, *args))


async def digest(path: Path) -> str:
    """The sha256 of a staged input's bytes (the cache key), hashed off the loop."""
    return await _on(_FILES, file_digest.of_file, path)


def make_scratch(settings: Settings, name: str) -> Path:
    """A private directory under TMP_DIR (made on the loop: a mkdir is quick)."""
    root = Path(settings.tmp_dir)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))  # mkdtemp makes it 0700


def remove_scratch(path: Path, settings: Settings) -> asyncio.Future[None]:
    """Remove a scratch directory (unless KEEP_TEMP_FILES) on this module's executor; done
    even if no one awaits the future (media/workspace.py would use the default executor)."""
    loop = asyncio.get_running_loop()
    if settings.keep_temp_files:
        kept: asyncio.Future[None] = loop.create_future()
        kept.set_result(None)
        return kept
    return loop.run_in_executor(_FILES, functools.partial(shutil.rmtree, path, True))


@asynccontextmanager
async def scratch(settings: Settings, name: str) -> AsyncIterator[Path]:
    """make_scratch for the span of the block, then remove_scratch."""
    path = make_scratch(settings, name)
    try:
        yield path
    finally:  # shielded: a second cancellation must not leave the directory behind
        await asyncio.shield(remove_scratch(path, settings))


async def _decode(path: Path, settings: Settings) -> Samples:
    argv = (
        *global_args("error"),
        "-protocol_whitelist", "file", "-format_whitelist", ",".join(spec.INPUT_FORMATS),
        "-i", path.name, "-map", "0:a:0", "-t", str(MAX_SECONDS),
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-c:a", "pcm_f32le", PCM_FILE,
    )  # fmt: skip
    await run_ffmpeg(argv, settings=settings, cwd=path.parent)
    samples: Samples = await _on(_TRACKER, np.fromfile, path.parent / PCM_FILE, np.float32)
    return samples


async def analyse(local: Path, sha256: str, settings: Settings, *, field: str) -> Detected:
    """Probe, decode and track `local` (a file in a scratch directory of its own, which the
    PCM joins); the caller holds a unit of the budget. Cached by `sha256`."""
    if (found := lookup(sha256)) is not None:  # analysed while this one waited for its unit
        return found
    info = await probe(local, settings, field=field)
    if not info.has_audio:
        raise InvalidClipFormat.at(field, "has no audio stream (beats need audio)")
    samples = await _decode(local, settings)
    try:
        result: Beats = await _on(_TRACKER, track, samples)
    except NoBeats as exc:
        raise InvalidClipFormat.at(field, f"no beats to detect: {exc}") from None
    detected = Detected(
        bpm=result.bpm,
        beats=result.beats,
        duration=info.duration_ms / 1000,
        analyzed_seconds=min(info.duration_ms / 1000, MAX_SECONDS),
        sha256=sha256,
    )
    _CACHE[sha256] = detected
    while len(_CACHE) > CACHE_ENTRIES:
        _CACHE.popitem(last=False)
    return detected


async def detect_file(path: Path, settings: Settings, *, field: str = "url") -> Detected:
    """Beats of a staged local file for a render's beat sync: inside a job, which holds a unit
    of the budget already (taking another would wait on itself when MAX_CONCURRENT_JOBS=1)."""
    sha256 = await digest(path)
    if (found := lookup(sha256)) is not None:
        return found
    async with scratch(settings, "beats") as work:
        local = work / f"in{path.suffix}"
        local.symlink_to(path.resolve())
        return await analyse(local, sha256, settings, field=field)
