"""`fonts: [{family, url}]`: TTF/OTF files a composition brings, staged like every input.

Each file is fetched by the input staging (URL policy, size cap, service-chosen name) into the
job's own directory, then checked here before use: at most MAX_FONT_BYTES and a single
TrueType or OpenType font (`check_font`, by its first bytes), then read whole by
media/fontfile.py in a child Python started through the one spawn site (media/process.py),
under FONT_CHECK_MEMORY_MB of address space and FONT_CHECK_CPU_S of CPU: every table libass or
the service reads is parsed there. So a collection (TTC/OTC) or any other file, a short or
damaged table, or one whose tables would take more than the limits to decode (a single cmap
group over all of Unicode: ~280 MiB) is INVALID_CLIP_FORMAT naming `fonts[i].url`, never an
internal error, and the reading's cost is the child's, returned to the system when it exits.

The same child writes the copy libass draws: `fonts[i]` as `vidsvc-font-<i>`, its family, full
and PostScript names replaced (media/fontfile.rename). The ASS document names that family, so
any internal name works (`,` `{` `}` `\\` or a leading `@` are special in ASS and fontconfig),
and two brought files with the same internal family, or one named like an installed font,
never stand for each other. The copy is a function of the file's bytes and `i`, so the render
cache (which hashes the linked copy) still hits for the same inputs. A usable font answers for
its `family` in `style.font` (compared without case, as fontconfig compares; the schema refuses
two fonts under one family); libass reaches it through the job's font directory only, so one
job's fonts are never another job's fallback. Fonts are read one at a time: a job holds at most
one such child.

Imports the leaves, vidsvc.graph (FontFace), vidsvc.inputs.staging and vidsvc.media.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.graph import FontFace
from vidsvc.inputs import staging as inputs
from vidsvc.media import fontfile
from vidsvc.media.children import ChildLimits
from vidsvc.media.process import run_capture

MAX_FONT_BYTES = 20 * 1024 * 1024
#: The first bytes of a single TrueType ("\0\1\0\0", "true") or OpenType/CFF ("OTTO") font.
FONT_MAGIC = (b"\x00\x01\x00\x00", b"true", b"OTTO")
#: The reading child's address space. Measured peaks (VmPeak, Python and fontTools included):
#: 31 MiB for DejaVu Sans, 58 MiB for a 5 MB Noto font, 150 MiB for Noto Sans CJK as a
#: 16.5 MB OTF; a one-group cmap over all of Unicode needs 305 MiB and is refused.
FONT_CHECK_MEMORY_MB = 256
#: The reading child's CPU seconds (0.6 s for the CJK OTF) and wall-clock seconds.
FONT_CHECK_CPU_S = 10
FONT_CHECK_TIMEOUT_S = 30.0
#: The family the service gives `fonts[i]`'s copy: the name the ASS document uses.
ASSIGNED_FAMILY = "vidsvc-font-{}"


def check_font(path: Path, field: str) -> None:
    """Refuse (naming `field`) a file over the cap, a collection or anything but a TTF/OTF by
    its first bytes; the tables are read_font()'s."""

    size = path.stat().st_size
    if size > MAX_FONT_BYTES:
        raise InvalidClipFormat.at(field, f"{size} bytes, over the cap of {MAX_FONT_BYTES}")
    magic = _magic(path)
    if magic in (b"ttcf",):
        raise InvalidClipFormat.at(field, "a font collection (TTC/OTC); give one TTF or OTF font")
    if magic not in FONT_MAGIC:
        raise InvalidClipFormat.at(field, "not a TrueType or OpenType font")


def _magic(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(4)


def _limits() -> ChildLimits:
    """The reading child's limits, under the hard limits this process inherited."""

    def capped(kind: int, soft: int, hard: int) -> tuple[int, int]:
        _, ceiling = resource.getrlimit(kind)
        if ceiling == resource.RLIM_INFINITY:
            return soft, hard
        return min(soft, ceiling), min(hard, ceiling)

    memory = FONT_CHECK_MEMORY_MB << 20
    return ChildLimits(
        memory=capped(resource.RLIMIT_AS, memory, memory),
        cpu=capped(resource.RLIMIT_CPU, FONT_CHECK_CPU_S, FONT_CHECK_CPU_S + 1),
        fsize=capped(resource.RLIMIT_FSIZE, 2 * MAX_FONT_BYTES, 2 * MAX_FONT_BYTES),
    )


async def read_font(path: Path, copy: Path, family: str, field: str) -> FontFace:
    """Check `path` whole in a child and write its copy named `family` at `copy`."""
    argv = [sys.executable, "-I", "-m", fontfile.__name__, str(path), str(copy), family]
    costly = InvalidClipFormat.at(
        field,
        f"reading the font takes over {FONT_CHECK_MEMORY_MB} MiB or {FONT_CHECK_CPU_S} s "
        "(a table far larger than the file)",
    )
    try:
        got = await run_capture(argv, timeout=FONT_CHECK_TIMEOUT_S, limits=_limits())
    except TimeoutError as exc:
        raise costly from exc
    if got.returncode == fontfile.REFUSED:
        reason = json.loads(got.stdout)["refused"]
        raise InvalidClipFormat.at(field, str(reason))
    if got.returncode != 0:  # TOO_BIG, or killed by the CPU limit (SIGXCPU, SIGKILL)
        raise costly
    read = json.loads(got.stdout)
    return FontFace(
        path=str(copy),
        family=family,
        em_ratio=float(read["em_ratio"]),
        bold=bool(read["bold"]),
        italic=bool(read["italic"]),
    )


async def stage_fonts(
    comp: spec.Composition, workdir: Path, settings: Settings
) -> dict[str, FontFace]:
    """`style.font` name → FontFace of every font the composition brings (checked, copied
    under its service-assigned family, in this job only)."""
    if not comp.fonts:
        return {}
    folder = workdir / "userfonts"
    folder.mkdir(mode=0o700, exist_ok=True)
    fonts = [i for i in comp.inputs() if i.kind == "font"]
    fields = {i.url: i.field for i in reversed(fonts)}  # a URL given twice: its first field
    staged = await inputs.stage(
        list(fields), folder, settings, fields=fields, max_bytes=MAX_FONT_BYTES
    )
    for url, path in staged.items():
        check_font(path, fields[url])
    faces: dict[str, FontFace] = {}
    for i, font in enumerate(comp.fonts):  # one child at a time: one bounded reader per job
        path = staged[font.url]
        suffix = ".otf" if _magic(path) == b"OTTO" else ".ttf"
        name = ASSIGNED_FAMILY.format(i)
        face = await read_font(path, folder / f"{name}{suffix}", name, fields[font.url])
        faces[font.family.casefold()] = face
    by_family = {f.family: faces[f.family.casefold()] for f in comp.fonts}
    asked = {n: faces[n.casefold()] for n in comp.text_fonts() if n.casefold() in faces}
    return by_family | asked
