#!/usr/bin/env python3
"""FFMPEG_BIN for the reliability bars: misbehave first, then exec the real FFmpeg. Stdlib only.

The fake of tests/support/fakes cannot finish a job (its output is not a video, so the probe of the
output fails); this one injects the fault and then becomes the real FFmpeg (exec: same pid, so
PR_SET_PDEATHSIG and the process group still apply), which renders the tiny input for real.

SLOW_FFMPEG_PLAN: comma-separated steps, one per render invocation in order (the last repeats);
a step is ';'-joined actions, run in order:
  sleep=S      `-progress` lines every 100 ms for S s (S or "A-B": uniform random in [A, B])
  stderr=MB    MB MiB of stderr lines
  fork         a grandchild `sleep 3600` (ignoring SIGTERM) in our process group
  exit=CODE    exit CODE at once (the real FFmpeg never runs)
  segv         kill ourselves with SIGSEGV
  killparent   SIGKILL the vidsvc process that started us (an OOM kill of the service)
  hang         ignore SIGTERM and sleep forever
SLOW_FFMPEG_PIDFILE: each invocation appends "<pid>" (a grandchild "<pid> child") on a line.
What describes the binary rather than renders is answered by the real FFmpeg, uncounted:
`-version`, and the libx264 build probe (one frame of X264_PROBE, vidsvc/media/ffmpeg.py).
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_ffmpeg import _progress


def _register() -> int:
    """Append our pid; our index among the invocations so far (under a lock: jobs overlap)."""
    path = os.environ.get("SLOW_FFMPEG_PIDFILE")
    if not path:
        return 0
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        index = sum(1 for line in f if line.strip() and "child" not in line)
        f.write(f"{os.getpid()}\n")
        return index


def _note_child(pid: int) -> None:
    path = os.environ.get("SLOW_FFMPEG_PIDFILE")
    if path:
        with open(path, "a") as f:
            f.write(f"{pid} child\n")


def _seconds(value: str) -> float:
    low, _, high = value.partition("-")
    return random.uniform(float(low), float(high)) if high else float(low)


def _act(action: str) -> int | None:
    """Run one action; an exit code when the process must end here."""
    name, _, arg = action.partition("=")
    if name == "sleep":
        _progress(_seconds(arg))
    elif name == "stderr":
        line = b"x" * 1023 + b"\n"
        for _ in range(int(float(arg) * 1024)):
            sys.stderr.buffer.write(line)
        sys.stderr.buffer.write(b"last line of the shim's log\n")
        sys.stderr.flush()
    elif name == "fork":
        child = subprocess.Popen(
            ["sleep", "3600"], preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN)
        )
        _note_child(child.pid)
    elif name == "exit":
        return int(arg)
    elif name == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif name == "killparent":
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(3600)  # PR_SET_PDEATHSIG ends us with our parent
    elif name == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(3600)
    elif name:
        sys.stderr.write(f"slow_ffmpeg: unknown action {name!r}\n")
        return 2
    return None


X264_PROBE = "color=c=black:s=64x64:r=1"  #: vidsvc/media/ffmpeg.py x264_build's source


def main(argv: list[str]) -> int:
    real = shutil.which("ffmpeg") or "ffmpeg"
    if argv != ["-version"] and X264_PROBE not in argv:
        steps = os.environ.get("SLOW_FFMPEG_PLAN", "sleep=0.3").split(",")
        index = _register()
        for action in steps[min(index, len(steps) - 1)].split(";"):
            code = _act(action.strip())
            if code is not None:
                return code
        sys.stdout.flush()
        sys.stderr.flush()
    os.execv(real, [real, *argv])
    return 0  # unreachable: execv does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
