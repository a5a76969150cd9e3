"""The render cache (issue #6): an identical composition completes from an earlier output.

"Identical" means the same output bytes would come out (but for the per-job thread share
below), so the key is the SHA-256 of a canonical JSON document of everything that decides them,
computed by render()'s `before_run` hook, after the inputs are staged and probed and the
command is compiled, before FFmpeg runs:

- CACHE_VERSION, bumped when the graph compiler changes what a composition means;
- the first line of `ffmpeg -version` (another FFmpeg encodes other bytes);
- the compiled command: argv (encoder, preset, CRF, sizes, filters…) and the SHA-256 of each
  side file (filter script, the ASS document of every text). Inputs appear in it under their
  staged names (in0.mp4…), never under their URLs, so a presigned URL that changes per
  request still hits;
- the SHA-256 of each staged input's bytes, in timeline order: hashed after staging, so one
  changed byte misses;
- the SHA-256 of each font file linked into the job's font directory (the text engine's
  resolved and brought fonts: a font upgrade changes the glyphs);
- x264's thread count where configuration fixes it. Measured: x264's bytes depend on it (1, 2
  and automatic threads give three different files from one input; one count always gives
  the same file). FFMPEG_THREADS=N puts `-threads N` in the argv; "auto" leaves it to x264,
  which sizes itself from the CPUs it sees, so those are in the key. The default (0) has
  vidsvc pick a share per job from the renders running (runner/threads.py): that count says
  when a render ran, not what was asked, and a fresh render's bytes would depend on the load
  as much, so it is left out; a hit is then an equally valid render at the same settings;
- the parsed composition (sorted keys) without user_id and with URLs replaced by staged names.

A hit needs the newest COMPLETED job with the key (JobStore.find_cached) whose blobs are still
there: they are copied (BlobStore.copy: a hard link on disk, CopyObject on S3) to this job's own
fenced keys, so deleting either job later never breaks the other, and the job completes at once
with metadata "cache": {"hit": true, "source_composition_id", "key"}. The completion goes
through the same fenced finish() as a render. A blob that is gone, or a store that fails during
the lookup, is a miss: the cache only ever saves work, it never fails a job. Every completed
composition records its key (hits included), so any one of them can serve later requests.

Opting out: `"cache": false` in a request renders afresh, but still records its key, since its
output is as good an entry as any (the client wanted a fresh render, not to hide it).
ENABLE_RENDER_CACHE=false turns the whole thing off: nothing is hashed, looked up or recorded.
A hit only ever hands a client an output derived from inputs whose bytes it supplied itself.
Identical requests running at the same time each render (nothing is in flight-coalesced: the
second would have to wait on the first's lease); both record the key. Clip jobs are not cached.

Imports the leaves, vidsvc.store and vidsvc.runner.{ffmpeg,render}; never vidsvc.http.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import StorageError
from vidsvc.jobs import Job
from vidsvc.runner.ffmpeg import ffmpeg_version
from vidsvc.runner.render import OnStage, Prepared
from vidsvc.store import Stores

log = logging.getLogger(__name__)

#: Bump when the graph compiler changes the output of a composition without changing its argv.
CACHE_VERSION = 1
_CHUNK = 1 << 20


def requested(payload: Mapping[str, Any]) -> bool:
    """The request's own say (`"cache": false` opts out); the schema let only booleans in."""
    return bool(payload.get("cache", True))


def _sha256_file(path: Path, missing_ok: bool) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        if not missing_ok:
            raise
        return "missing"
    return digest.hexdigest()


async def sha256_files(paths: list[Path], *, missing_ok: bool = False) -> list[str]:
    """Hex digests, in order ("missing" for an absent file if missing_ok). hashlib drops the
    GIL on large updates, so a render's inputs are hashed in threads side by side."""
    jobs = (asyncio.to_thread(_sha256_file, p, missing_ok) for p in paths)
    return list(await asyncio.gather(*jobs))


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_composition(comp: spec.Composition, names: Mapping[str, str]) -> dict[str, Any]:
    """The composition as plain data without user_id, URLs replaced by staged file names."""
    doc = dataclasses.asdict(comp)
    doc.pop("user_id", None)
    for clip in doc["clips"]:
        clip["url"] = names[clip["url"]]
    for field in ("music_url", "voiceover_url"):
        if doc["audio"][field]:
            doc["audio"][field] = names[doc["audio"][field]]
    return doc


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what x264 counts on Linux
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


async def render_key(comp: spec.Composition, prepared: Prepared, settings: Settings) -> str:
    """The cache key of a prepared render (see the module docstring for what goes in)."""
    argv = list(prepared.command.argv)
    if settings.ffmpeg_threads == 0 and "-threads" in argv:  # the load's share, not the ask's
        at = argv.index("-threads")
        del argv[at : at + 2]
    inputs = list(prepared.staged.values())
    fonts = sorted(set(prepared.command.links.values()))  # every font file libass may load
    digests = await sha256_files(inputs)
    # A font that is not there is FFmpeg's to report (fonts.py falls back to a path that may not
    # exist), not the cache's.
    font_digests = await sha256_files([Path(f) for f in fonts], missing_ok=True)
    names = {url: path.name for url, path in prepared.staged.items()}
    document = {
        "cache_version": CACHE_VERSION,
        "ffmpeg": await ffmpeg_version(settings),
        "argv": argv,
        "files": {n: _sha256_text(t) for n, t in sorted(prepared.command.files.items())},
        "inputs": [[p.name, d] for p, d in zip(inputs, digests, strict=True)],
        "fonts": dict(zip(fonts, font_digests, strict=True)),
        "cpus": _cpus() if settings.ffmpeg_threads < 0 else None,
        "composition": canonical_composition(comp, names),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return _sha256_text(text)


class Hit(Exception):  # a control-flow signal, not an error
    """Raised by Lookup.before_run to end the render: the output is already in the blob store."""

    def __init__(
        self,
        *,
        source: Job,
        key: str,
        video_key: str,
        thumbnail_key: str,
        prepared: Prepared,
        timings: Mapping[str, float],
    ) -> None:
        super().__init__(f"render cache hit: {source.id}")
        self.source, self.key, self.prepared, self.timings = source, key, prepared, timings
        self.video_key, self.thumbnail_key = video_key, thumbnail_key

    @property
    def summary(self) -> dict[str, Any]:
        return {"hit": True, "source_composition_id": self.source.id, "key": self.key}


class Lookup:
    """One job's use of the cache: `before_run` computes the key and raises Hit on a hit;
    after a miss, `key` and `summary` are what finish() records."""

    def __init__(
        self,
        job: Job,
        comp: spec.Composition,
        settings: Settings,
        stores: Stores,
        *,
        keys: tuple[str, str],
        on_stage: OnStage,
    ) -> None:
        """`keys`: this job's fenced video and thumbnail keys, where a hit copies the blobs."""
        self.job, self.comp, self.settings, self.stores = job, comp, settings, stores
        (self.video_key, self.thumbnail_key), self.on_stage = keys, on_stage
        self.key: str | None = None
        self._started = time.monotonic()

    @property
    def summary(self) -> dict[str, Any]:
        """The metadata's "cache" entry of a render (a miss, or no lookup at all)."""
        if not self.settings.enable_render_cache:
            return {"hit": False, "key": None, "bypass": "disabled"}
        if not requested(self.job.payload):
            return {"hit": False, "key": self.key, "bypass": "request"}
        return {"hit": False, "key": self.key}

    async def before_run(self, prepared: Prepared) -> None:
        if not self.settings.enable_render_cache:
            return
        prepared_at = time.monotonic()
        self.key = await render_key(self.comp, prepared, self.settings)
        if not requested(self.job.payload):
            return
        source = await self._copy_from_newest(self.key)
        if source is None:
            return
        # Only now: a miss goes on to encode, and progress never goes back from "uploading".
        self.on_stage("uploading", 99.0, f"render cache hit: reused the output of {source.id}")
        timings = {
            "preparing": round(prepared_at - self._started, 3),
            "cache": round(time.monotonic() - prepared_at, 3),
        }
        raise Hit(
            source=source,
            key=self.key,
            video_key=self.video_key,
            thumbnail_key=self.thumbnail_key,
            prepared=prepared,
            timings=timings,
        )

    async def _copy_from_newest(self, key: str) -> Job | None:
        """The earlier job whose blobs now sit at this job's keys; None for a miss."""
        extra = {"composition_id": self.job.id}
        try:
            source = await self.stores.jobs.find_cached(key)
            if source is None or not source.output_key or not source.thumbnail_key:
                return None
            await self.stores.blobs.copy(source.output_key, self.video_key)
            await self.stores.blobs.copy(source.thumbnail_key, self.thumbnail_key)
        except KeyError:  # deleted since it completed (dev reset-user, expiry): render again
            log.info("render cache entry gone; rendering", extra=extra)
            return None
        except StorageError as exc:
            log.warning("render cache lookup failed; rendering (%s)", exc, extra=extra)
            return None
        log.info("render cache hit", extra=extra | {"source": source.id})
        return source
