"""Is a probed file render-ready (cliptask.RENDER_READY), whoever made it?

A composition may splice such a file's GOPs instead of re-encoding them (graph/splice_plan.py),
so this checks what splicing needs, from the file itself:
1. the stream parameters (ffprobe, cheap): H.264 High at the profile's level, size and
   constant frame rate, yuv420p, the MP4 time base, bt709 tags in tv range, and AAC at the
   profile's rate and stereo when there is audio;
2. the keyframe grid (only when 1 passed): every video packet's key flag, read by demuxing
   without decoding; keyframes must fall exactly every N frames from the first, no others;
3. the encoder's own record when it left one (x264's SEI in the first packet): a closed GOP
   (`open_gop=0`) and the same grid (`keyint=N`, `scenecut=0`). A file from another encoder
   passes on 1 and 2 alone; the planner must still compare the extradata bytes before it
   copies anything, so a wrong guess here costs a fallback, never a broken splice.

read_packets() gives the smart render (work/compositions/smart.py) the packet timestamps it
cuts pieces at.

The fingerprint a normalize job stores is what the planner compares: the avcC bytes' hash,
x264's options (they include `threads=`, which does not change the bitstream's syntax), the
CRF, the frame count and the keyframe interval.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from vidsvc.cliptask import RENDER_READY, ReadyProfile
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.media.children import child_limits
from vidsvc.media.process import run_capture
from vidsvc.spec import INPUT_FORMATS

#: x264 writes its options in an SEI of the first access unit, which follows the moov (at
#: most a few hundred KiB for a clip) in a faststart MP4; past this, treat it as absent.
SEI_SCAN_BYTES = 4 << 20
_X264 = re.compile(rb"x264 - core \d+[^\x00]*? - options: ([^\x00]*)")
_STREAM_FIELDS = (
    "codec_type,codec_name,profile,level,width,height,pix_fmt,avg_frame_rate,r_frame_rate,"
    "time_base,color_range,color_space,color_transfer,color_primaries,sample_rate,channels,"
    "nb_frames,extradata_hash"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Readiness:
    keyframe_interval: int  #: frames from one IDR to the next
    frames: int
    extradata_sha256: str  #: of the avcC box's bytes (the SPS and PPS a splice must share)
    x264_options: str | None  #: as x264 recorded them; None from another encoder
    crf: float | None

    def fingerprint(self) -> dict[str, Any]:
        return {
            "extradata_sha256": self.extradata_sha256,
            "x264_options": self.x264_options,
            "crf": self.crf,
            "frames": self.frames,
            "keyframe_interval": self.keyframe_interval,
        }


def video_matches(stream: dict[str, Any], profile: ReadyProfile = RENDER_READY) -> bool:
    """Step 1 for the video stream, on ffprobe's -show_streams fields."""
    want = {
        "codec_name": "h264",
        "profile": profile.profile,
        "level": profile.level,
        "width": profile.width,
        "height": profile.height,
        "pix_fmt": profile.pix_fmt,
        "avg_frame_rate": f"{profile.fps}/1",
        "r_frame_rate": f"{profile.fps}/1",
        "time_base": f"1/{profile.timescale}",
        "color_range": profile.color_range,
        "color_space": profile.color,
        "color_transfer": profile.color,
        "color_primaries": profile.color,
    }
    return all(stream.get(key) == value for key, value in want.items())


def audio_matches(stream: dict[str, Any], profile: ReadyProfile = RENDER_READY) -> bool:
    return (
        stream.get("codec_name") == "aac"
        and str(stream.get("sample_rate")) == str(profile.audio_rate)
        and stream.get("channels") == 2
    )


def grid(keys: list[bool]) -> int | None:
    """N when packets 0, N, 2N, … and only they are keyframes (N: the second one's index,
    or the whole length for a file shorter than one interval); else None."""
    if not keys or not keys[0]:
        return None
    later = [i for i, key in enumerate(keys) if key and i > 0]
    interval = later[0] if later else len(keys)
    expected = [i % interval == 0 for i in range(len(keys))]
    return interval if keys == expected else None


def x264_options(head: bytes) -> str | None:
    found = _X264.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


def _option(options: str, name: str) -> str | None:
    found = re.search(rf"(?:^| ){re.escape(name)}=(\S+)", options)
    return found.group(1) if found else None


def encoder_agrees(options: str | None, interval: int) -> bool:
    """Step 3: x264's record of a closed GOP on the same grid (absent: nothing to refute)."""
    if options is None:
        return True
    return (
        _option(options, "open_gop") == "0"
        and _option(options, "keyint") == str(interval)
        and _option(options, "scenecut") == "0"
    )


async def _probe(path: Path, settings: Settings, entries: str, *select: str) -> dict[str, Any]:
    """ffprobe's JSON of `entries` (demuxing only, allow-listed like every input), {} when it
    fails; OSError, TimeoutError or ValueError when it cannot run or answer."""
    argv = [
        settings.ffprobe_bin,
        *("-v", "error", "-protocol_whitelist", "file", *select),
        *("-format_whitelist", ",".join(INPUT_FORMATS)),
        *("-show_data_hash", "SHA256", "-print_format", "json", "-show_entries", entries),
        *("-i", f"file:{path.absolute()}"),
    ]
    captured = await run_capture(
        argv, timeout=settings.probe_timeout, limits=child_limits(settings)
    )
    data: dict[str, Any] = json.loads(captured.stdout) if captured.returncode == 0 else {}
    return data


def _extradata_sha256(stream: dict[str, Any]) -> str:
    return str(stream.get("extradata_hash", "")).removeprefix("SHA256:")


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(SEI_SCAN_BYTES)


async def inspect(path: Path, settings: Settings) -> Readiness | None:
    """The file's Readiness, or None when it is not render-ready (or cannot be read)."""
    try:
        data = await _probe(path, settings, f"stream={_STREAM_FIELDS}:packet=stream_index,flags")
    except (TimeoutError, OSError, ValueError):
        return None
    streams = data.get("streams") or []
    videos = [i for i, s in enumerate(streams) if s.get("codec_type") == "video"]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if len(videos) != 1 or not video_matches(streams[videos[0]]):
        return None
    if not all(audio_matches(a) for a in audios):
        return None
    index = videos[0]
    keys = [
        "K" in str(p.get("flags", ""))
        for p in data.get("packets") or []
        if p.get("stream_index") == index
    ]
    interval = grid(keys)
    if interval is None:
        return None
    try:
        options = x264_options(await asyncio.to_thread(_head, path))
    except OSError:
        return None
    if not encoder_agrees(options, interval):
        return None
    crf = _option(options, "crf") if options else None
    return Readiness(
        keyframe_interval=interval,
        frames=len(keys),
        extradata_sha256=_extradata_sha256(streams[index]),
        x264_options=options,
        crf=float(crf) if crf else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoPackets:
    """A file's first video stream's packets in decode order (what a demuxer gives a joiner)."""

    pts: tuple[int, ...]
    dts: tuple[int, ...]
    time_base: Fraction
    extradata_sha256: str


async def read_packets(path: Path, settings: Settings) -> VideoPackets:
    """The packets' timestamps, by demuxing only; ProcessingFailed if unreadable."""
    entries = "stream=time_base,extradata_hash:packet=pts,dts"
    try:
        data = await _probe(path, settings, entries, "-select_streams", "v:0")
        stream = data["streams"][0]
        packets = data.get("packets") or []
        return VideoPackets(
            pts=tuple(int(p["pts"]) for p in packets),
            dts=tuple(int(p["dts"]) for p in packets),
            time_base=Fraction(stream["time_base"]),
            extradata_sha256=_extradata_sha256(stream),
        )
    except (TimeoutError, OSError, ValueError, KeyError, IndexError) as exc:
        raise ProcessingFailed(f"could not read the packets of {path.name}: {exc}") from None
