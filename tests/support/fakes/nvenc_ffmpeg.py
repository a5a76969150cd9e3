#!/usr/bin/env python3
"""FFMPEG_BIN standing in for FFmpeg on a host with or without a working NVIDIA GPU. Stdlib only.

There is no GPU here, so NVENC itself is what this replaces: an h264_nvenc encode either fails
as FFmpeg does without a usable device, or becomes the same encode with libx264 run by the real
FFmpeg (exec: same pid, same process group), so the rest of the render is real.

NVENC_MODE:
  ok        every h264_nvenc encode works (as libx264)
  nodevice  every h264_nvenc encode fails: "No capable devices found" (a host without a GPU)
  busy      the one-frame check works; a render's session fails: "OpenEncodeSessionEx failed"
NVENC_ARGVFILE: each invocation appends its argv as one JSON line.
NVENC_CARD_SESSIONS (with NVENC_CARD_DIR): a consumer card's cap on concurrent encode sessions.
  Each h264_nvenc encode that works leaves `<pid>.session` in the directory; one that finds as
  many live sessions (their pid still running: exec keeps it) fails with
  "OpenEncodeSessionEx failed: out of memory (10)", as such a card does.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

NVENC_OPTIONS = ("-preset", "-tune", "-rc", "-cq", "-b:v")


def _as_x264(argv: list[str]) -> list[str]:
    """`-c:v h264_nvenc <its options>` becomes `-c:v libx264 -preset ultrafast [-crf <cq>]`."""
    at = argv.index("h264_nvenc")
    i, crf = at + 1, []
    while i + 1 < len(argv) and argv[i] in NVENC_OPTIONS:
        if argv[i] == "-cq":
            crf = ["-crf", argv[i + 1]]
        i += 2
    return [*argv[:at], "libx264", "-preset", "ultrafast", *crf, *argv[i:]]


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (an exited, unreaped one is a zombie: not live)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _card_has_a_session() -> bool:
    """Take one of the card's NVENC_CARD_SESSIONS for this process (True when there is no cap)."""
    cap, where = os.environ.get("NVENC_CARD_SESSIONS"), os.environ.get("NVENC_CARD_DIR")
    if not cap or not where:
        return True
    card = Path(where)
    card.mkdir(parents=True, exist_ok=True)
    with (card / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        live = 0
        for session in card.glob("*.session"):
            if _running(int(session.stem)):
                live += 1
            else:
                session.unlink()
        if live >= int(cap):
            return False
        (card / f"{os.getpid()}.session").touch()
    return True


def main() -> None:
    argv = sys.argv[1:]
    log = os.environ.get("NVENC_ARGVFILE")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(argv) + "\n")
    real = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
    if "h264_nvenc" in argv:
        mode = os.environ.get("NVENC_MODE", "ok")
        render = "-progress" in argv
        full = mode == "ok" and not _card_has_a_session()
        if mode == "nodevice" or (mode == "busy" and render) or full:
            message = (
                "No capable devices found"
                if mode == "nodevice"
                else "OpenEncodeSessionEx failed: out of memory (10)"
            )
            sys.stderr.write(f"[h264_nvenc @ 0x55d5c0e0a0c0] {message}\n")
            sys.stderr.write(
                "Error initializing output stream 0:0 -- Error while opening encoder\n"
            )
            sys.exit(1)
        argv = _as_x264(argv)
    os.execv(real, [real, *argv])


if __name__ == "__main__":
    main()
