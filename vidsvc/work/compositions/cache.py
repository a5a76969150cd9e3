"""The render cache: an identical composition completes from an earlier output.

"Identical" means the same output bytes would come out (but for the per-job thread share
below), so the key is the SHA-256 of a canonical JSON document of everything that decides them,
computed by `lookup` after the inputs are staged and probed and the command is compiled,
before FFmpeg runs:

- CACHE_VERSION, bumped when the graph compiler changes what a composition means;
- the first line of `ffmpeg -version` (another FFmpeg encodes other bytes);
- the compiled command: argv (encoder, preset, CRF, sizes, filters…) and the SHA-256 of each
  side file (filter script, the ASS document of every text). Inputs appear in it under their
  staged names (in0.mp4…), never under their URLs, so a presigned URL that changes per
  request still hits;
- the SHA-256 of each staged input's bytes, in timeline order: hashed after staging, so one
  changed byte misses;
- a grade's LUT by its bytes: work/compositions/luts.py names each grade's LUT by its digest
  before the graph is built, so the blended copy's file name in the argv carries it;
- the SHA-256 of each font file linked into the job's font directory (the text engine's
  resolved and brought fonts: a font upgrade changes the glyphs), and, for a render that draws
  text, a fingerprint of every installed font (media/coverage.font_set: libass falls back per
  character to any of them);
- x264's thread count where configuration fixes it. Measured: x264's bytes depend on it (1, 2
  and automatic threads give three different files from one input; one count always gives
  the same file). FFMPEG_THREADS=N puts `-threads N` in the argv; "auto" leaves it to x264,
  which sizes itself from the CPUs it sees, so those are in the key. The default (0) has
  vidsvc pick a share per job from the renders running (media/threads.py): that count says
  when a render ran, not what was asked, and a fresh render's bytes would depend on the load
  as much, so it is left out; a hit is then an equally valid render at the same settings;
- the parsed composition (sorted keys) without user_id and with URLs replaced by staged names
  (a webhook's callback_url and metadata never reach it: they stay beside the composition in
  the request, schema/webhook.py).

A hit needs the newest COMPLETED job with the key (JobStore.find_cached) whose blobs are still
there: they are copied (BlobStore.copy: a hard link on disk, CopyObject on S3) to this job's own
fenced keys, so deleting either job later never breaks the other, and the job completes at once
with metadata "cache": {"hit": true, "source_composition_id", "key"}. The completion goes
through the same fenced finish() as a render. A blob that is gone, or a store that fails during
the lookup, is a miss: the cache only ever saves work, it never fails a job. Every completed
composition records its key (hits included), so any one of them can serve later requests.

The key is computed before FFmpeg runs, from the command that is to run, and recorded under the
command that made the output (`as_encoded`). With ENABLE_GPU_ENCODING the argv names
h264_nvenc, so NVENC and libx264 renders never share entries. When render.encode ran the CPU's
one pass instead (Prepared.on_cpu: an NVENC session failed, or a smart render fell back), the
output is recorded under that command's key: the entry a CPU-only or one-pass render of the
composition makes, which it can serve, and which the NVENC or smart lookup never finds. Any
other command records no key.

Opting out: `"cache": false` in a request renders afresh, but still records its key, since its
output is as good an entry as any (the client wanted a fresh render, not to hide it).
ENABLE_RENDER_CACHE=false turns the whole thing off: nothing is hashed, looked up or recorded.
A hit only ever hands a client an output derived from inputs whose bytes it supplied itself.
Identical requests running at the same time each render (nothing is in flight-coalesced: the
second would have to wait on the first's lease); both record the key. Clip jobs are not cached.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import StorageError
from vidsvc.jobs import Job
from vidsvc.media import cpu, digest
from vidsvc.media.children import cores
from vidsvc.media.coverage import font_set
from vidsvc.media.ffmpeg import ffmpeg_version
from vidsvc.media.threads import AUTO
from vidsvc.store import Stores
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.outputs import Keys, stored_keys
from vidsvc.work.compositions.prepared import Prepared

log = logging.getLogger(__name__)

#: Bump when the graph compiler changes the output of a composition without changing its argv.
CACHE_VERSION = 1


def _sha256_file(path: Path, missing_ok: bool) -> str:
    try:
        return digest.of_file(path)
    except FileNotFoundError:
        if not missing_ok:
            raise
        return "missing"


async def sha256_files(paths: list[Path], *, missing_ok: bool = False) -> list[str]:
    """Hex digests, in order ("missing" for an absent file if missing_ok). hashlib drops the
    GIL on large updates, so a render's inputs are hashed in threads side by side."""
    jobs = (asyncio.to_thread(_sha256_file, p, missing_ok) for p in paths)
    return list(await asyncio.gather(*jobs))


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_composition(comp: spec.Composition, names: Mapping[str, str]) -> dict[str, Any]:
    """The composition as plain data without user_id, and without a URL: a media input is
    named by its staged file (whose digest the key holds), a captions file or font by its
    field (the cues it gave are in the command's subtitle file, and every font file libass
    may load is hashed), so the same bytes at a presigned URL are the same render."""
    doc = dataclasses.asdict(comp.with_urls(lambda i: names[i.url] if i.media else i.field))
    doc.pop("user_id", None)
    doc.pop("cache", None)  # an opted-out render is as good an entry as any
    return doc


async def render_key(comp: spec.Composition, prepared: Prepared, settings: Settings) -> str:
    """The cache key of a prepared render (see the module docstring for what goes in)."""
    argv = list(prepared.command.argv)
    if settings.ffmpeg_threads == 0 and "-threads" in argv:  # the load's share, not the ask's
        at = argv.index("-threads")
        del argv[at : at + 2]
    inputs = list(prepared.staged.values())
    # Every font file libass may load, by the name it is linked as: a composition's own font is
    # staged in the job's folder, so its path differs from job to job while its bytes do not.
    fonts = sorted(prepared.command.links.items())
    digests = await sha256_files(inputs)
    # A font that is not there is FFmpeg's to report (fonts.py falls back to a path that may not
    # exist), not the cache's.
    font_digests = await sha256_files([Path(f) for _, f in fonts], missing_ok=True)
    names = {url: path.name for url, path in prepared.staged.items()}
    document = {
        "cache_version": CACHE_VERSION,
        "ffmpeg": await ffmpeg_version(settings),
        "argv": argv,
        "inputs": [[p.name, d] for p, d in zip(inputs, digests, strict=True)],
        "fonts": {name: d for (name, _), d in zip(fonts, font_digests, strict=True)},
        "system_fonts": await font_set() if fonts else None,
        "cpus": cores() if settings.ffmpeg_threads == AUTO else None,
    }
    # a 5 MiB caption file is 0.3 s of hashing and copying: not on the loop
    return await cpu.run(_digest, document, prepared.command.files, comp, names)


def _digest(
    document: dict[str, Any],
    files: Mapping[str, str],
    comp: spec.Composition,
    names: Mapping[str, str],
) -> str:
    document = {
        **document,
        "files": {n: _sha256_text(t) for n, t in sorted(files.items())},
        "composition": canonical_composition(comp, names),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return _sha256_text(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """The output of an earlier job (`source`), already copied to this job's keys."""

    source: Job
    key: str

    @property
    def summary(self) -> dict[str, Any]:
        return {"hit": True, "source_composition_id": self.source.id, "key": self.key}


@dataclass(frozen=True, slots=True, kw_only=True)
class Miss:
    """Render afresh; finish() records `key` (None when the cache is off)."""

    key: str | None
    bypass: str | None = None  #: "disabled" (ENABLE_RENDER_CACHE), "request" ("cache": false)

    @property
    def summary(self) -> dict[str, Any]:
        """The metadata's "cache" entry of a render."""
        return {"hit": False, "key": self.key} | ({"bypass": self.bypass} if self.bypass else {})


async def lookup(
    job: Job,
    comp: spec.Composition,
    prepared: Prepared,
    settings: Settings,
    stores: Stores,
    *,
    keys: Sequence[Keys],
) -> Hit | Miss:
    """The cache's answer for a prepared render. On a hit the earlier videos and thumbnails
    (one pair per rendition) are copied to `keys` (this job's fenced keys)."""
    if not settings.enable_render_cache:
        return Miss(key=None, bypass="disabled")
    key = await render_key(comp, prepared, settings)
    if not comp.cache:
        return Miss(key=key, bypass="request")
    source = await _copy_from_newest(job, key, stores, keys)
    return Miss(key=key) if source is None else Hit(source=source, key=key)


async def as_encoded(
    miss: Miss,
    comp: spec.Composition,
    prepared: Prepared,
    argv: Sequence[str],
    settings: Settings,
) -> Miss:
    """The miss to record once FFmpeg has run `argv`: keyed by what made the output."""
    if miss.key is None or tuple(argv) == prepared.command.argv:
        return miss
    cpu = prepared.on_cpu()  # NVENC gave up, or a smart render fell back to one pass
    if tuple(argv) != cpu.argv:
        return dataclasses.replace(miss, key=None)
    key = await render_key(comp, dataclasses.replace(prepared, command=cpu), settings)
    return dataclasses.replace(miss, key=key)


async def _copy_from_newest(
    job: Job, key: str, stores: Stores, keys: Sequence[Keys]
) -> Job | None:
    """The earlier job whose blobs now sit at this job's keys; None for a miss."""
    extra = {"composition_id": job.id}
    try:
        source = await stores.jobs.find_cached(key)
        if source is None:
            return None
        found = stored_keys(source, CompositionOutcome.from_dict(source.metadata).outputs)
        if len(found) != len(keys):  # the key holds the renditions: only a row from before
            return None
        for theirs, ours in zip(found, keys, strict=True):
            await stores.blobs.copy(theirs.video, ours.video)
            await stores.blobs.copy(theirs.thumbnail, ours.thumbnail)
    except KeyError:  # deleted since it completed (dev reset-user, expiry): render again
        log.info("render cache entry gone; rendering", extra=extra)
        return None
    except StorageError as exc:
        log.warning("render cache lookup failed; rendering (%s)", exc, extra=extra)
        return None
    log.info("render cache hit", extra=extra | {"source": source.id})
    return source
