#!/usr/bin/env python3
"""A stand-in for FFMPEG_BIN that misbehaves on demand (RELIABILITY.md §0.4). Stdlib only.

FAKE_FFMPEG_MODE (default `sleep:0.3`):
  sleep:N    `-progress` blocks on stdout every 100 ms for N s, writes the output file, exit 0
  exit:CODE  a few stderr lines (the cwd among them), then exit CODE
  segv       kills itself with SIGSEGV
  hang       ignores SIGTERM and sleeps forever
  fork       starts a grandchild `sleep 3600` (ignoring SIGTERM) in its group, then hangs
  stderr:MB  writes MB MiB of stderr, then exit 0
  alloc:GB   allocates GB GiB, then hangs
FAKE_FFMPEG_PIDFILE: each run appends its pid (then the grandchild's) on a line of its own.
FAKE_FFMPEG_ARGVFILE: each run appends its argv as one JSON line (an invocation log).
`-version` always answers like FFmpeg and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


def _note(env: str, line: str) -> None:
    path = os.environ.get(env)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def _progress(seconds: float) -> None:
    frame, step = 0, 0.1
    elapsed = 0.0
    while elapsed < seconds:
        time.sleep(step)
        elapsed += step
        frame += 3
        micros = int(elapsed * 1_000_000)
        sys.stdout.write(
            f"frame={frame}\nfps=30.00\nbitrate=N/A\ntotal_size=0\n"
            f"out_time_us={micros}\nout_time_ms={micros}\n"
            f"out_time=00:00:{elapsed:09.6f}\nspeed=1.00x\nprogress=continue\n"
        )
        sys.stdout.flush()
    sys.stdout.write(f"frame={frame}\nout_time_us={int(seconds * 1e6)}\nprogress=end\n")
    sys.stdout.flush()


def _write_output(argv: list[str]) -> None:
    last = argv[-1] if argv else ""
    if last and not last.startswith("-") and ":" not in last and "." in last:
        with open(last, "wb") as f:
            f.write(b"fake output\n")


def _hang() -> None:
    while True:
        time.sleep(3600)


def _fork() -> None:
    child = subprocess.Popen(
        ["sleep", "3600"],
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN),
    )
    _note("FAKE_FFMPEG_PIDFILE", str(child.pid))
    _hang()


def main(argv: list[str]) -> int:
    if argv == ["-version"]:
        print("ffmpeg version 5.1-fake Copyright (c) the vidsvc tests")
        return 0
    _note("FAKE_FFMPEG_PIDFILE", str(os.getpid()))
    _note("FAKE_FFMPEG_ARGVFILE", json.dumps(argv))
    mode, _, arg = os.environ.get("FAKE_FFMPEG_MODE", "sleep:0.3").partition(":")
    if mode == "sleep":
        _progress(float(arg or 0))
        _write_output(argv)
    elif mode == "exit":
        sys.stderr.write("ffmpeg version 5.1-fake\n  configuration: --fake\n")
        sys.stderr.write(f"[mov @ 0x1] {os.getcwd()}/in0.mp4: moov atom not found\n")
        sys.stderr.write(f"{os.getcwd()}/in0.mp4: Invalid data found\nConversion failed!\n")
        return int(arg)
    elif mode == "segv":
        sys.stderr.write("about to crash\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGSEGV)
    elif mode == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _hang()
    elif mode == "fork":
        _fork()
    elif mode == "stderr":
        line = b"x" * 1023 + b"\n"
        for _ in range(int(float(arg) * 1024)):
            sys.stderr.buffer.write(line)
        sys.stderr.buffer.write(b"last line of the log\n")
    elif mode == "alloc":
        hoard = bytearray(int(float(arg) * (1 << 30)))
        hoard[::4096] = b"x" * len(hoard[::4096])
        _hang()
    else:
        sys.stderr.write(f"fake_ffmpeg: unknown mode {mode!r}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
