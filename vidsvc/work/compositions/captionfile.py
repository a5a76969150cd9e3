"""`captions.url`: an SRT or WebVTT file, staged like every input, read into cues.

The file is fetched by the input staging (vidsvc.inputs.staging: URL policy, size cap,
service-chosen name) into its own directory, then read here: at most MAX_CAPTION_BYTES,
decoded (a UTF-8 or UTF-16 byte-order mark wins; else UTF-8; else Windows-1252, which
decodes any byte), parsed by pysubs2 (a well-kept subtitle library, 0.2 MB) and accepted only
as SRT or WebVTT. pysubs2 reads the formats' own markup (`<i>`, and `{…}` blocks in SRT) and
the text keeps only what it draws. Anything else is INVALID_CLIP_FORMAT naming `captions.url`,
a failed job with a clear message, never a 500.

Imports the leaves, vidsvc.config and vidsvc.inputs.staging.
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
from pathlib import Path

import pysubs2

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.inputs import staging as inputs

FIELD = "captions.url"
MAX_CAPTION_BYTES = 5 * 1024 * 1024
MAX_FILE_CUES = 5000  #: as many as inline cues (schema.MAX_CUES)
MAX_FILE_CUE_CHARS = 1000  #: as long as an inline cue (schema.MAX_CUE_CHARS)
FORMATS = ("srt", "vtt")


def decode(data: bytes) -> str:
    """The file's text (BOMs honoured; a NUL outside UTF-16 means it is not a text file)."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InvalidClipFormat.at(
                    FIELD, "not valid text for its byte-order mark"
                ) from exc
    if b"\x00" in data:
        raise InvalidClipFormat.at(FIELD, "a binary file, not SRT or WebVTT")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse(data: bytes) -> tuple[spec.Cue, ...]:
    """Cues of an SRT or WebVTT file, in file order (the graph sorts and clips them)."""
    if not data.strip():
        raise InvalidClipFormat.at(FIELD, "the file is empty")
    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    try:
        fmt = pysubs2.formats.autodetect_format(text)
    except (pysubs2.exceptions.Pysubs2Error, ValueError) as exc:
        raise InvalidClipFormat.at(FIELD, "not an SRT or WebVTT file") from exc
    if fmt not in FORMATS:
        raise InvalidClipFormat.at(FIELD, f"a {fmt} file; only SRT and WebVTT are read")
    try:
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    except (pysubs2.exceptions.Pysubs2Error, ValueError, IndexError) as exc:
        raise InvalidClipFormat.at(FIELD, f"not a valid {fmt} file ({exc})") from exc
    if len(subs) > MAX_FILE_CUES:
        raise InvalidClipFormat.at(FIELD, f"{len(subs)} cues, over the cap of {MAX_FILE_CUES}")
    cues = tuple(
        spec.Cue(start_ms=max(0, int(e.start)), end_ms=int(e.end), text=e.plaintext)
        for e in subs
        if e.end > e.start and e.plaintext.strip()
    )
    if not cues:
        raise InvalidClipFormat.at(FIELD, "no cue with text and a positive duration")
    longest = max(len(c.text) for c in cues)
    if longest > MAX_FILE_CUE_CHARS:
        raise InvalidClipFormat.at(
            FIELD, f"a cue of {longest} characters, over the cap of {MAX_FILE_CUE_CHARS}"
        )
    return cues


async def with_caption_file(
    comp: spec.Composition, workdir: Path, settings: Settings
) -> spec.Composition:
    """`comp` with the cues of its captions file read in (unchanged without one)."""
    cap = comp.captions
    if cap is None or cap.url is None:
        return comp
    folder = workdir / "captions"
    folder.mkdir(mode=0o700, exist_ok=True)
    staged = await inputs.stage([cap.url], folder, settings, fields={cap.url: FIELD})
    path = staged[cap.url]
    size = path.stat().st_size
    if size > MAX_CAPTION_BYTES:
        raise InvalidClipFormat.at(FIELD, f"{size} bytes, over the cap of {MAX_CAPTION_BYTES}")
    cues = parse(await asyncio.to_thread(path.read_bytes))
    return dataclasses.replace(comp, captions=dataclasses.replace(cap, cues=cues, url=None))
