"""FFmpeg threading policies the throughput phase compares: each is server environment.

"vidsvc" (FFMPEG_THREADS=0, the default): x264 threads per job from the cores and the
renders under way (vidsvc.media.threads); "ffmpeg" (FFMPEG_THREADS=auto): no -threads at
all, x264's own choice (1.5 frame threads per core for every encoder, whatever else runs).
`--policy NAME=VAR=VALUE,...` on the command line replaces these.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from vidsvc.config import Settings


@dataclass(frozen=True)
class Policy:
    name: str
    env: dict[str, str]
    note: str = ""

    def describe(self) -> str:
        shown = " ".join(f"{k}={v}" for k, v in self.env.items()) or "defaults"
        return f"{shown}{f': {self.note}' if self.note else ''}"


def parse_policy(text: str) -> Policy:
    """`name=VAR=VALUE[,VAR=VALUE...]`; the variables must parse as vidsvc settings."""
    name, sep, rest = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VAR=VALUE[,...], got {text!r}")
    env: dict[str, str] = {}
    for pair in filter(None, rest.split(",")):
        var, eq, value = pair.partition("=")
        if not eq:
            raise argparse.ArgumentTypeError(f"expected VAR=VALUE, got {pair!r}")
        env[var] = value
    try:
        Settings.from_env(env)
    except Exception as exc:  # ConfigError names the variable
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Policy(name, env)


def policies() -> list[Policy]:
    """vidsvc's per-job share and FFmpeg's own choice (FFMPEG_THREADS, media/threads.py)."""
    return [
        Policy("vidsvc", {"FFMPEG_THREADS": "0"}, "x264 threads shared out per job"),
        Policy("ffmpeg", {"FFMPEG_THREADS": "auto"}, "no -threads: FFmpeg's own choice"),
    ]
