"""Beat detection of one input: stage it, decode it with FFmpeg, track it in a thread, cache it.

The input goes through the same URL policy, staging, size caps and probe as a clip; FFmpeg
(the one spawn site) decodes its first audio stream to mono float PCM at the
tracker's rate, at most MAX_SECONDS of it; the tracker (vidsvc/beats, numpy) runs in a worker
thread so the event loop keeps serving. Results are cached per input bytes (sha256), so the
route and a render's beat sync on the same music analyse it once.

"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidsvc import spec
from vidsvc.beats.tracker import SAMPLE_RATE, Beats, NoBeats, track
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.graph.compile import global_args
from vidsvc.inputs import staging as inputs
from vidsvc.media.ffmpeg import run_ffmpeg
from vidsvc.media.probe import probe
from vidsvc.media.workspace import workspace

#: Only the first 10 minutes are analysed (10.6 MB of PCM, ~1 s of tracking); beats stop there.
MAX_SECONDS = 600
CACHE_ENTRIES = 256
#: Analyses at once per process (a 600 s input: 50 MB of PCM and 163 MB more at the peak,
#: by tracemalloc); more wait in their worker thread, never on the event loop.
MAX_PARALLEL = 2
_GATE = threading.BoundedSemaphore(MAX_PARALLEL)
PCM_FILE = "beats.f32"


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


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _gated_track(samples: np.ndarray[tuple[int], np.dtype[np.float32]]) -> Beats:
    with _GATE:
        return track(samples)


async def _decode(
    path: Path, settings: Settings, work: Path
) -> np.ndarray[tuple[int], np.dtype[np.float32]]:
    argv = (
        *global_args("error"),
        "-protocol_whitelist", "file", "-format_whitelist", ",".join(spec.INPUT_FORMATS),
        "-i", path.name, "-map", "0:a:0", "-t", str(MAX_SECONDS),
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-c:a", "pcm_f32le", PCM_FILE,
    )  # fmt: skip
    await run_ffmpeg(argv, settings=settings, cwd=work)
    return await asyncio.to_thread(np.fromfile, work / PCM_FILE, dtype=np.float32)


async def detect_file(path: Path, settings: Settings, *, field: str = "url") -> Detected:
    """Beats of a staged local file (a render's music, or the route's staged input)."""
    digest = await asyncio.to_thread(_digest, path)
    if digest in _CACHE:
        _CACHE.move_to_end(digest)
        return _CACHE[digest]
    info = await probe(path, settings, field=field)
    if not info.has_audio:
        raise InvalidClipFormat.at(field, "has no audio stream (beats need audio)")
    async with workspace(settings, "beats") as work:
        local = work / f"in{path.suffix}"
        local.symlink_to(path.resolve())
        samples = await _decode(local, settings, work)
    try:
        found = await asyncio.to_thread(_gated_track, samples)
    except NoBeats as exc:
        raise InvalidClipFormat.at(field, f"no beats to detect: {exc}") from None
    detected = Detected(
        bpm=found.bpm,
        beats=found.beats,
        duration=info.duration_ms / 1000,
        analyzed_seconds=min(info.duration_ms / 1000, MAX_SECONDS),
        sha256=digest,
    )
    _CACHE[digest] = detected
    while len(_CACHE) > CACHE_ENTRIES:
        _CACHE.popitem(last=False)
    return detected


async def detect(url: str, settings: Settings) -> Detected:
    """Stage `url` under the input URL rules, then detect_file() it."""
    async with workspace(settings, "beats-input") as work:
        staged = await inputs.stage([url], work, settings, fields={url: "url"})
        return await detect_file(staged[url], settings)
