"""`captions.url`: an SRT or WebVTT file, staged like every input, read into cues (or words).

The file is fetched by the input staging (vidsvc.inputs.staging: URL policy, size cap,
service-chosen name) into its own directory, then read by vidsvc.work.compositions.subtitles
(decoded, parsed as the format defines it, its markup read; see that package for why a parser of
our own) on the preparation threads (vidsvc.media.cpu): parsing is CPU work and never runs on
the event loop. With `captions.mode` `highlight` or `word`, a WebVTT file's inline timestamps
become the captions' `words`. What was read (format, encoding, cues, skipped malformed cues)
is the job's `captions` metadata. A bad file is INVALID_CLIP_FORMAT naming `captions.url`, a
failed job with a clear message, never a 500.

Imports the leaves, vidsvc.config, vidsvc.inputs.staging, vidsvc.media.cpu and the subtitles
package.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.inputs import staging as inputs
from vidsvc.media import cpu
from vidsvc.work.compositions import subtitles

FIELD = subtitles.FIELD
MAX_CAPTION_BYTES = 5 * 1024 * 1024
WORD_MODES = ("highlight", "word")  #: the modes that use a file's word timings


def _read(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(MAX_CAPTION_BYTES + 1)
    if len(data) > MAX_CAPTION_BYTES:
        raise InvalidClipFormat.at(FIELD, f"over the cap of {MAX_CAPTION_BYTES} bytes")
    return data


async def with_caption_file(
    comp: spec.Composition, workdir: Path, settings: Settings
) -> tuple[spec.Composition, dict[str, Any]]:
    """`comp` with the cues of its captions file read in, and what was read for the job's
    metadata (unchanged and {} without a file)."""
    cap = comp.captions
    if cap is None or cap.url is None:
        return comp, {}
    folder = workdir / "captions"
    folder.mkdir(mode=0o700, exist_ok=True)
    staged = await inputs.stage(
        [cap.url], folder, settings, fields={cap.url: FIELD}, max_bytes=MAX_CAPTION_BYTES
    )
    # staging held the cap on the wire (or by a local file's size); the read holds it again
    # for a linked local file that grew since
    data = await asyncio.to_thread(_read, staged[cap.url])  # file I/O: the default executor
    subs = await cpu.run(subtitles.read, data, words=cap.mode in WORD_MODES)  # CPU: its own pool
    if subs.words:
        read = dataclasses.replace(cap, cues=(), words=subs.words, url=None)
    else:
        read = dataclasses.replace(cap, cues=subs.cues, url=None)
    return dataclasses.replace(comp, captions=read), subs.summary()
