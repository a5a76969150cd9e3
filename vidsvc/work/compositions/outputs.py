"""A composition's stored files: one video and one thumbnail per rendition.

Keys are fenced by the attempt's lease token (docs/reliability.md C3, C5), the first
rendition's in the row's own `output_key`/`thumbnail_key` columns, every rendition's in the
outcome's `outputs` (work/compositions/outcome.py), which GET, the WebSocket's `completed`
message and the webhook show with links (never the keys). A file's extension and type are
its format's (graph/formats.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.graph import formats
from vidsvc.jobs import Job
from vidsvc.media.probe import probe
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.prepared import Encoded

THUMBNAIL_TYPE = "image/jpeg"


@dataclass(frozen=True, slots=True)
class Keys:
    """Where one rendition's files are stored."""

    video: str
    thumbnail: str


def keys(job: Job, output: spec.Output) -> tuple[Keys, ...]:
    """This attempt's keys, one pair per rendition (`….mp4`, `….r1.mp4`, …)."""
    base, ext = f"outputs/{job.id}/{job.token}", formats.format_of(output.format).extension
    return tuple(
        Keys(f"{base}{_numbered(n)}.{ext}", f"{base}{_numbered(n)}.jpg")
        for n in range(len(output.shapes()))
    )


def _numbered(rendition: int) -> str:
    return f".r{rendition}" if rendition else ""


async def described(encoded: Encoded, output: spec.Output, settings: Settings) -> dict[str, Any]:
    """The metadata's `output`: the first rendition's file as ffprobe reads it back. An
    animated image is described by what was rendered instead: ffprobe's input whitelist has no
    GIF demuxer (GIF inputs are refused) and FFmpeg 5.1 cannot decode an animated WebP."""
    if not output.animated:
        return (await probe(encoded.video, settings, field="output")).summary()
    fmt, (width, height) = formats.format_of(output.format), output.shapes()[0].size
    return {
        "duration": encoded.duration_ms / 1000,
        "format": fmt.name,
        "video": fmt.video_codec,
        "audio": None,
        "width": width,
        "height": height,
        "fps": output.fps,
        "bytes": encoded.video.stat().st_size,
    }


def recorded(
    output: spec.Output, stored: Sequence[Keys], duration: float | None
) -> list[dict[str, Any]]:
    """The outcome's `outputs`: each rendition's shape, length and keys."""
    return [
        {
            "rendition": number,
            "width": shape.size[0],
            "height": shape.size[1],
            "format": output.format,
            "duration": duration,
            "output_key": pair.video,
            "thumbnail_key": pair.thumbnail,
        }
        for number, (shape, pair) in enumerate(zip(output.shapes(), stored, strict=True))
    ]


def stored_keys(job: Job, outputs: Sequence[Mapping[str, Any]] | None) -> list[Keys]:
    """Every rendition's keys of a completed job (a row from before renditions: its own)."""
    found = [
        Keys(str(o["output_key"]), str(o["thumbnail_key"]))
        for o in outputs or ()
        if o.get("output_key") and o.get("thumbnail_key")
    ]
    if found:
        return found
    if job.output_key and job.thumbnail_key:
        return [Keys(job.output_key, job.thumbnail_key)]
    return []


Link = Callable[[int, str], str | None]  #: (rendition, "video" or "thumbnail") → its URL


def listed(outcome: CompositionOutcome) -> Sequence[Mapping[str, Any]] | None:
    """The outcome's `outputs`; for a row completed before they were recorded, its one
    output as the metadata's probe describes it (None without a probed size)."""
    if outcome.outputs:
        return outcome.outputs
    probed = outcome.output or {}
    if not isinstance(probed.get("width"), int) or not isinstance(probed.get("height"), int):
        return None  # no picture described: nothing to list
    keys = ("width", "height", "duration")
    return [{"rendition": 0, "format": "mp4", **{k: probed.get(k) for k in keys}}]


def public(outputs: Sequence[Mapping[str, Any]] | None, link: Link) -> list[dict[str, Any]] | None:
    """What clients see of `outputs` (from `listed`): each rendition's shape and length, with
    its links made by `link(rendition, file)` (file "video" or "thumbnail") instead of
    storage keys."""
    if not outputs:
        return None
    return [
        {
            "rendition": o.get("rendition", n),
            "width": o.get("width"),
            "height": o.get("height"),
            "format": o.get("format", "mp4"),
            "duration": o.get("duration"),
            "output_url": link(n, "video"),
            "thumbnail_url": link(n, "thumbnail"),
        }
        for n, o in enumerate(outputs)
    ]
