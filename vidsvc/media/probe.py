"""Probe a staged input with ffprobe and refuse what the render must never see.

ffprobe runs with `-protocol_whitelist file` and a demuxer whitelist (spec.INPUT_FORMATS),
so playlists, concat scripts, images and DASH manifests in disguise are refused here,
before any render. Limits (pixels, duration, streams) are docs/reliability.md B5/B6; a picture
too large for FFmpeg itself (ffprobe then sees a 0x0 stream) is refused by the size FFmpeg read
from its header, naming MAX_INPUT_PIXELS when it is over that too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, ProcessingFailed
from vidsvc.media import cpu, digest
from vidsvc.media.children import child_limits
from vidsvc.media.process import run_capture
from vidsvc.media.spliceable import Readiness, inspect, video_matches
from vidsvc.spec import INPUT_FORMATS

_PREFIX = re.compile(r"^\[([^\]@]+?) @ 0x[0-9a-f]+\]\s*")
#: FFmpeg's own refusal of a picture too large for it (av_image_check_size), with the size it
#: read from the header: ffprobe then reports a 0x0 stream, or fails.
_INVALID_SIZE = re.compile(rb"Picture size (\d+)x(\d+) is invalid")


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaInfo:
    duration_ms: int
    has_video: bool  #: a real video stream (cover art in audio files does not count)
    has_audio: bool
    width: int | None  #: as stored, before rotation
    height: int | None
    fps: float | None  #: average frame rate; None when unknown
    rotation: int  #: counter-clockwise display rotation (0/90/180/270); autorotate applies it
    format_name: str
    nb_streams: int
    video_codec: str | None
    audio_codec: str | None
    still: bool = False  #: a single image (an image pipe demuxer): no duration of its own
    decoder: str | None = None  #: a decoder the render must force (VP9 with alpha: libvpx-vp9)
    #: Encoded like a normalized clip (media.renderready): a composition could splice its GOPs;
    #: what smart rendering needs of it. None: not render-ready.
    readiness: Readiness | None = None

    @property
    def render_ready(self) -> bool:
        return self.readiness is not None

    @property
    def keyframe_interval(self) -> int | None:
        """Frames between IDRs, when render-ready."""
        return self.readiness.keyframe_interval if self.readiness else None

    def summary(self) -> dict[str, Any]:
        """What job metadata shows of a probed file (inputs and outputs alike)."""
        return {
            "duration": self.duration_ms / 1000,
            "format": self.format_name,
            "video": self.video_codec,
            "audio": self.audio_codec,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "rotation": self.rotation,
            "streams": self.nb_streams,
            "render_ready": self.render_ready,
            "keyframe_interval": self.keyframe_interval,
        }


def _argv(path: Path, settings: Settings) -> list[str]:
    return [
        settings.ffprobe_bin,
        *("-v", "error", "-protocol_whitelist", "file"),
        *("-format_whitelist", ",".join(INPUT_FORMATS)),
        *("-print_format", "json", "-show_format", "-show_streams"),
        # "file:" keeps a name with ":" or a leading "-" from meaning anything else. The staged
        # name, not the link's target: a local file is staged as a symlink, and its own name
        # (`x.jpg`, `a%d.png`) would pick the image2 demuxer, which is refused.
        *("-i", f"file:{path.absolute()}"),
    ]


def _reason(stderr: bytes, path: Path) -> str:
    """ffprobe's complaint without paths or addresses, e.g. `moov atom not found`."""
    reasons: list[str] = []
    for raw in stderr.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        for form in (f"file:{path.absolute()}", str(path.absolute()), str(path)):
            line = line.replace(form, "")
        prefix = _PREFIX.match(line)
        line = _PREFIX.sub("", line).lstrip(": ").strip()
        if line.startswith("Format not on whitelist") and prefix:
            line = f"format {prefix.group(1)} is not accepted"
        if line and line not in reasons:
            reasons.append(line)
    if len(reasons) > 1 and reasons[-1] == "Invalid argument":
        reasons.pop()  # what follows a refusal by the whitelist says nothing more
    return "; ".join(reasons[-2:])[:200] or "ffprobe failed"


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or ():
        if "rotation" in side:
            return round(float(side["rotation"])) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    # The legacy tag is clockwise; the display matrix (above) counter-clockwise.
    return -round(float(tag)) % 360 if tag else 0


def _fps(stream: dict[str, Any]) -> float | None:
    for key in ("avg_frame_rate", "r_frame_rate"):
        num, _, den = str(stream.get(key, "0/0")).partition("/")
        try:
            value = float(num) / float(den or 1)
        except (ValueError, ZeroDivisionError):
            continue
        if value > 0:
            return value
    return None


def _duration_ms(data: dict[str, Any]) -> int:
    candidates = [data.get("format", {}).get("duration")]
    candidates += [s.get("duration") for s in data.get("streams", ())]
    best = 0.0
    for raw in candidates:
        try:
            best = max(best, float(raw))
        except (TypeError, ValueError):  # missing or "N/A"
            continue
    return round(best * 1000) if best == best and best != float("inf") else 0


def _media_info(data: dict[str, Any]) -> MediaInfo:
    streams = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    video = videos[0] if videos else {}
    fmt = data.get("format") or {}
    return MediaInfo(
        duration_ms=_duration_ms(data),
        has_video=bool(videos),
        has_audio=bool(audios),
        width=int(video["width"]) if video.get("width") else None,
        height=int(video["height"]) if video.get("height") else None,
        fps=_fps(video) if video else None,
        rotation=_rotation(video) if video else 0,
        format_name=str(fmt.get("format_name", "")),
        nb_streams=int(fmt.get("nb_streams", len(streams))),
        video_codec=video.get("codec_name"),
        audio_codec=audios[0].get("codec_name") if audios else None,
        still=str(fmt.get("format_name", "")).endswith("_pipe"),
        decoder=_decoder(video),
    )


def _decoder(video: dict[str, Any]) -> str | None:
    """FFmpeg's native VP9 decoder drops WebM alpha (ffprobe still says yuv420p; only the
    ALPHA_MODE tag tells): such a stream must be decoded by libvpx-vp9 to keep it."""
    tags = {str(k).lower(): str(v) for k, v in (video.get("tags") or {}).items()}
    if video.get("codec_name") == "vp9" and tags.get("alpha_mode") == "1":
        return "libvpx-vp9"
    return None


def _check_limits(info: MediaInfo, settings: Settings, field: str) -> None:
    if not (info.has_video or info.has_audio):
        raise InvalidClipFormat.at(field, "has no video or audio stream")
    if info.width and info.height and info.width * info.height > settings.max_input_pixels:
        raise InvalidClipFormat.at(field, _too_many_pixels(info.width, info.height, settings))
    if info.duration_ms > settings.max_input_seconds * 1000:
        raise InvalidClipFormat.at(
            field, f"lasts longer than the {settings.max_input_seconds:g} s allowed"
        )
    if info.nb_streams > settings.max_input_streams:
        raise InvalidClipFormat.at(
            field,
            f"has {info.nb_streams} streams (at most {settings.max_input_streams})",
        )


def _too_many_pixels(width: int, height: int, settings: Settings) -> str:
    if width * height > settings.max_input_pixels:
        return (
            f"{width}x{height} is more than {settings.max_input_pixels} pixels (MAX_INPUT_PIXELS)"
        )
    return f"{width}x{height} is more pixels than FFmpeg can decode"


def _invalid_size(stderr: bytes, settings: Settings) -> str | None:
    """The pixel refusal for a picture FFmpeg found too large to read (a 30000x30000 PNG is
    900 Mpx: over MAX_INPUT_PIXELS and over FFmpeg's own limit), else None."""
    found = _INVALID_SIZE.search(stderr)
    return _too_many_pixels(int(found[1]), int(found[2]), settings) if found else None


#: Probes of accepted files by their bytes' sha256 (a dry run and the render after it, a
#: preview loop, the same clip in many jobs): hashing is cheaper than ffprobe and its packet
#: scan, and never runs on the loop. Keyed with the ffprobe and the staged name's suffix too
#: (a name can steer FFmpeg's choice of demuxer); refusals are not kept.
CACHE_ENTRIES = 1024
_PROBED: OrderedDict[tuple[str, str, str], MediaInfo] = OrderedDict()


async def probe(path: Path, settings: Settings, *, field: str) -> MediaInfo:
    """Describe a local media file; InvalidClipFormat (naming `field`) if it is refused."""
    key = (settings.ffprobe_bin, path.suffix.lower(), await cpu.run(digest.of_file, path))
    info = _PROBED.get(key)
    if info is None:
        info = await _probe(path, settings, field)
        _PROBED[key] = info
        while len(_PROBED) > CACHE_ENTRIES:
            _PROBED.popitem(last=False)
    _PROBED.move_to_end(key)
    if settings.run_ffprobe_validation:  # the settings' limits, whoever probed it
        _check_limits(info, settings, field)
    return info


async def _probe(path: Path, settings: Settings, field: str) -> MediaInfo:
    try:
        captured = await run_capture(
            _argv(path, settings), timeout=settings.probe_timeout, limits=child_limits(settings)
        )
    except TimeoutError:
        raise InvalidClipFormat.at(
            field, f"could not be probed within {settings.probe_timeout:g} s"
        ) from None
    except OSError as exc:
        raise ProcessingFailed(f"ffprobe could not be started: {exc.strerror}") from None
    if captured.returncode != 0:
        reason = f"not a decodable video or audio file ({_reason(captured.stderr, path)})"
        raise InvalidClipFormat.at(field, _invalid_size(captured.stderr, settings) or reason)
    try:
        data = json.loads(captured.stdout)
        info = _media_info(data)
        # the packet scan runs only for what already has the render-ready stream parameters
        candidate = any(video_matches(s) for s in data.get("streams") or ())
    except (ValueError, TypeError, AttributeError, KeyError):
        raise InvalidClipFormat.at(
            field, "not a decodable video or audio file (bad probe)"
        ) from None
    if info.duration_ms <= 0 and not info.still:
        raise InvalidClipFormat.at(field, "has no duration")
    if info.still and not (info.width and info.height):
        # A picture too large for FFmpeg says so, with its size. Else: FFmpeg 5.1 reads an
        # animated WebP's container but cannot decode its frames.
        too_large = _invalid_size(captured.stderr, settings)
        raise InvalidClipFormat.at(
            field, too_large or "an image FFmpeg cannot decode (an animated WebP?)"
        )
    if settings.run_ffprobe_validation:  # before the packet scan, which a long file makes slow
        _check_limits(info, settings, field)
    if candidate:
        ready = await inspect(path, settings)
        if ready is not None:
            info = dataclasses.replace(info, readiness=ready)
    return info
