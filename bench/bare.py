"""The "vidsvc argv, bare ffmpeg" contender: vidsvc's compiled command with no Python around it.

`vidsvc render` is Python start-up and imports, staging, ffprobe of every input, a font
lookup, and then one FFmpeg run whose progress it parses. Compiling that FFmpeg command
once, in-process and before any timing, and running it bare splits the render's cost
into the graph vidsvc builds (bare vs raw) and the orchestration's fixed cost around it
(render vs bare).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from vidsvc.__main__ import cli_settings, load_composition
from vidsvc.errors import ConfigError, VidsvcError
from vidsvc.media.fontdir import link_files
from vidsvc.media.load import Load
from vidsvc.media.workspace import write_files
from vidsvc.work.compositions import render as vidsvc_render
from vidsvc.work.compositions.reporter import Reporter

#: What the compiled argv writes, relative to its working directory.
VIDEO_OUT, THUMB_OUT = "out.mp4", "thumb.jpg"


class CompileFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Compiled:
    argv: list[str]  #: the whole command, FFmpeg binary first
    work: Path  #: run it here: the staged inputs and side files live in it
    inputs: int  #: distinct inputs vidsvc stages and probes before it runs the command

    @property
    def output(self) -> Path:
        return self.work / VIDEO_OUT


def compile_reference(spec: Path, work: Path, preset: str) -> Compiled:
    """Stage the spec's inputs into a fresh `work` and compile vidsvc's FFmpeg command.

    Raises CompileFailed when vidsvc rejects the spec or its settings, or when the
    command would not encode with `preset` (the comparison would then be meaningless).
    """
    # stage() names inputs in0, in1, ... and must not meet files from an earlier run.
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        compiled = asyncio.run(_compile(spec, work, preset))
    except (VidsvcError, ConfigError) as exc:
        raise CompileFailed(f"vidsvc could not compile {spec}: {exc}") from None
    encoded_with = _option(compiled.argv, "-preset")
    if encoded_with != preset:
        raise CompileFailed(f"vidsvc compiled -preset {encoded_with}, not {preset}")
    return compiled


async def _compile(spec: Path, work: Path, preset: str) -> Compiled:
    """What vidsvc renders do before they spawn FFmpeg (render.prepare), minus the spawn.

    X264_PRESET only matters when the spec sets no output.preset; ref.json always
    sets one (from --preset), so both routes agree with the other contenders.
    """
    comp = load_composition(spec)
    settings = cli_settings({**os.environ, "X264_PRESET": preset})
    report = Reporter(None)
    prepared = await vidsvc_render.prepare(comp, settings, work, report, load=Load())
    command = prepared.command
    write_files(work, command.files)
    link_files(work, command.links)  # the text engine's font directory
    argv = [settings.ffmpeg_bin, *command.argv]
    return Compiled(argv=argv, work=work, inputs=len(prepared.staged))


def _option(argv: list[str], name: str) -> str | None:
    """The value after the last `name` in argv (FFmpeg lets a later one win)."""
    found = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == name]
    return found[-1] if found else None
