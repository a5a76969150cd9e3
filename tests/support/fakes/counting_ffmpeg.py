#!/usr/bin/env python3
"""FFMPEG_BIN that logs when each run starts and ends, around the real FFmpeg. Stdlib only.

COUNTING_FFMPEG_LOG: each run appends "start <pid> <kind>" before the real FFmpeg starts and
"end <pid> <kind>" after it has exited, one write of one line each (O_APPEND: the file's order is
the order of the events). The running count over the log can only over-count how many FFmpeg
processes ran at once, never under-count. kind is "decode" for a beat decode (its output is
pcm_f32le), "other" for anything else.
COUNTING_FFMPEG_HOLD: seconds a beat decode sleeps (logged as started) before the real FFmpeg,
so that decodes that were allowed to overlap would overlap visibly.
COUNTING_FFMPEG_GATE: a directory; a beat decode (logged as started) waits until it can take a
file named `go` there (it removes it: one `go`, one decode), so a test lets decodes through one
at a time.
`-version` is answered by the real FFmpeg without a log line.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time


def _log(event: str, kind: str) -> None:
    path = os.environ.get("COUNTING_FFMPEG_LOG")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{event} {os.getpid()} {kind}\n".encode())
        finally:
            os.close(fd)


def _wait_for_go(gate: str) -> None:
    while True:
        try:
            os.remove(os.path.join(gate, "go"))
            return
        except FileNotFoundError:
            time.sleep(0.02)


def main() -> int:
    real = shutil.which("ffmpeg")
    assert real is not None and os.path.realpath(real) != os.path.realpath(__file__)
    argv = sys.argv[1:]
    if argv == ["-version"]:
        os.execv(real, [real, *argv])
    kind = "decode" if "pcm_f32le" in argv else "other"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still log the end
    _log("start", kind)
    try:
        if kind == "decode":
            time.sleep(float(os.environ.get("COUNTING_FFMPEG_HOLD", "0")))
            if gate := os.environ.get("COUNTING_FFMPEG_GATE"):
                _wait_for_go(gate)
        return subprocess.run([real, *argv], check=False).returncode
    finally:
        _log("end", kind)


if __name__ == "__main__":
    sys.exit(main())
