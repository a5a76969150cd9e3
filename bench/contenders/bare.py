"""The "vidsvc argv, bare ffmpeg" contender: vidsvc's compiled command with no Python around it.

`vidsvc render` is Python start-up and imports, staging, ffprobe of every input, a font
lookup, and then one FFmpeg run whose progress it parses. Compiling that FFmpeg command
once, in-process and before any timing, and running it bare splits the render's cost
into the graph vidsvc builds (bare vs raw) and the orchestration's fixed cost around it
(render vs bare).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bench import seams

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
    # Staging names inputs in0, in1, ... and must not meet files from an earlier run.
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        argv, inputs = seams.compile_command(spec, work, preset)
    except seams.Refused as exc:
        raise CompileFailed(str(exc)) from None
    encoded_with = _option(argv, "-preset")
    if encoded_with != preset:
        raise CompileFailed(f"vidsvc compiled -preset {encoded_with}, not {preset}")
    return Compiled(argv=argv, work=work, inputs=inputs)


def _option(argv: list[str], name: str) -> str | None:
    """The value after the last `name` in argv (FFmpeg lets a later one win)."""
    found = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == name]
    return found[-1] if found else None
