"""FFmpeg threading policies the throughput phase compares: each is server environment.

"vidsvc": the thread count vidsvc picks per job from the cores and MAX_CONCURRENT_JOBS;
"ffmpeg": no -threads at all, FFmpeg's and x264's own choice (x264 takes 1.5x the cores
for frame threads, per encoder, whatever else runs). `--policy NAME=VAR=VALUE,...` on the
command line replaces these.
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
        return f"{shown}{f' ({self.note})' if self.note else ''}"


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
    """vidsvc's per-job choice and FFmpeg's own, as this checkout of vidsvc spells them.

    Until per-job threading lands FFMPEG_THREADS is passed through as -threads (0: none),
    so FFMPEG_THREADS=1 stands for vidsvc's choice (2 cores / 5 jobs rounds to 1).
    """
    return [
        Policy("vidsvc", {"FFMPEG_THREADS": "1"}, "-threads 1 per job"),
        Policy("ffmpeg", {"FFMPEG_THREADS": "0"}, "no -threads: x264's own choice"),
    ]
