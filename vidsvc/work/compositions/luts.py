"""`grade.lut_url`, `clips[].grade.lut_url`: `.cube` LUTs staged like every input, checked, and
written blended for FFmpeg's lut3d.

Each distinct URL is fetched by the input staging (vidsvc.inputs.staging: URL policy, size cap,
service-chosen name) into the workspace's `luts/` folder and read by cube.py on the preparation
threads (vidsvc.media.cpu: parsing 65³ rows is CPU work, never on the event loop). The grades
then name their LUT by the digest of its bytes (`sha256:<hex>`, graph/grade.py says why), and
each (LUT, intensity) the grades use is written as `graph.grade.lut_file` names it, with the
intensity blended into the table (cube.blend). A bad file is INVALID_CLIP_FORMAT naming the
first field that gave its URL, a failed job (or a dry run's answer), never a 500.

Imports the leaves, vidsvc.config, vidsvc.inputs.staging, vidsvc.media.cpu, vidsvc.graph.grade
(the file names) and cube.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.graph.grade import LUT_DIR, lut_file
from vidsvc.inputs import staging as inputs
from vidsvc.media import cpu
from vidsvc.work.compositions import cube


async def with_luts(comp: spec.Composition, workdir: Path, settings: Settings) -> spec.Composition:
    """`comp` with every grade's LUT fetched, checked and written blended into `workdir`, and
    named by its bytes' digest (unchanged without a LUT)."""
    luts = [i for i in comp.inputs() if i.kind == "lut"]
    if not luts:
        return comp
    fields = {i.url: i.field for i in reversed(luts)}  # a URL given twice: its first field
    folder = workdir / LUT_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    staged = await inputs.stage(
        list(fields), folder, settings, fields=fields, max_bytes=cube.MAX_LUT_BYTES
    )
    digests: dict[str, str] = {}  # URL → "sha256:<hex>"
    tables: dict[str, cube.Cube] = {}  # digest → table: the same bytes at two URLs read once
    for url, path in staged.items():  # one at a time: at most one 65³ table parsing per job
        data, digests[url] = await asyncio.to_thread(_read, path, fields[url])  # file I/O
        if digests[url] not in tables:
            tables[digests[url]] = await cpu.run(cube.parse, data, fields[url])
    graded = comp.with_urls(lambda i: digests[i.url] if i.kind == "lut" else i.url)
    for token, intensity in _uses(graded):
        await _write(workdir, tables[token], token, intensity)
    return graded


def _read(path: Path, field: str) -> tuple[bytes, str]:
    """The file's bytes and their digest (hashing 16 MiB is no work for the event loop)."""
    # staging held the cap on the wire (or by a local file's size); the read holds it again
    # for a linked local file that grew since
    with path.open("rb") as f:
        data = f.read(cube.MAX_LUT_BYTES + 1)
    if len(data) > cube.MAX_LUT_BYTES:
        raise InvalidClipFormat.at(field, f"over the cap of {cube.MAX_LUT_BYTES} bytes")
    return data, f"sha256:{hashlib.sha256(data).hexdigest()}"


def _uses(comp: spec.Composition) -> list[tuple[str, float]]:
    """Each distinct (LUT, intensity) a grade draws, in order (at intensity 0 none is drawn)."""
    grades = [comp.grade, *(c.grade for c in comp.clips)]
    pairs = ((g.lut_url, g.lut_intensity) for g in grades if g is not None)
    return list(dict.fromkeys((u, i) for u, i in pairs if u is not None and i > 0))


async def _write(workdir: Path, table: cube.Cube, token: str, intensity: float) -> None:
    text = await cpu.run(cube.blend, table, intensity)  # formatting 65³ rows: CPU
    target = workdir / lut_file(token, intensity)
    await asyncio.to_thread(target.write_text, text, encoding="ascii")
