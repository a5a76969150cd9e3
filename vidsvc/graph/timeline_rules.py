"""Timeline rules beyond the clips' own placement (docs/contract.md §3): counts, overlay text and
placement, and the audio track, with the collector every rule reports into.

timeline.py places the clips and calls these. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vidsvc import spec
from vidsvc.errors import InvalidTimeline


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_duration_ms: int = 180_000
    max_animated_ms: int = 60_000  #: an animated image's rendered length (ANIMATED_MAX_SECONDS)
    max_clips: int = 200
    max_overlays: int = 100
    max_text_chars: int = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlaySlot:
    overlay: spec.TextOverlay
    start_ms: int
    end_ms: int


def secs(ms: int) -> str:
    """Milliseconds as a human number of seconds: 9000 → '9', 1500 → '1.5'."""
    return f"{ms / 1000:g}"


class Issues:
    """Collects every violation; raises one InvalidTimeline naming the first."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": f"{field}: {message}"})

    def raise_any(self) -> None:
        if self.items:
            first = self.items[0]
            details = {"field": first["field"], "issues": self.items}
            raise InvalidTimeline(first["message"], details=details)


def check_counts(comp: spec.Composition, limits: Limits, issues: Issues) -> None:
    if not comp.clips:
        issues.add("clips", "a composition needs at least one clip")
    if len(comp.clips) > limits.max_clips:
        issues.add("clips", f"{len(comp.clips)} clips, over MAX_CLIPS ({limits.max_clips})")
    count = len(comp.overlays)  # text, image and video alike
    if count > limits.max_overlays:
        issues.add(
            "overlays",
            f"{count} overlays, over MAX_OVERLAYS ({limits.max_overlays})",
        )


def check_texts(comp: spec.Composition, limits: Limits, issues: Issues) -> None:
    for overlay in comp.texts:
        p = f"overlays[{comp.place_of(overlay)}].content"
        text = overlay.text
        if len(text) > limits.max_text_chars:
            issues.add(
                p,
                f"{len(text)} characters, over MAX_TEXT_CHARS ({limits.max_text_chars})",
            )
        elif not text.strip():
            issues.add(p, "is empty")
        elif any((ord(ch) < 32 and ch not in "\n\t\r") or ord(ch) == 127 for ch in text):
            issues.add(p, "contains a control character (only newlines and tabs are allowed)")
        elif any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            issues.add(p, "contains an unpaired surrogate (not valid Unicode text)")


def place_overlays(comp: spec.Composition, total: int, issues: Issues) -> tuple[OverlaySlot, ...]:
    out: list[OverlaySlot] = []
    for overlay in comp.texts:
        p = f"overlays[{comp.place_of(overlay)}]"
        start = overlay.start_ms
        end = total if overlay.duration_ms is None else start + overlay.duration_ms
        if start >= total:
            issues.add(
                f"{p}.start_time",
                f"{secs(start)} is not before the end of the timeline ({secs(total)} s)",
            )
        elif end <= start:
            issues.add(f"{p}.duration", "must be above 0")
        elif end > total + 1:
            issues.add(
                f"{p}.duration",
                f"the overlay ends at {secs(end)}, past the end of the timeline ({secs(total)} s)",
            )
        elif overlay.style.fade_in_ms + overlay.style.fade_out_ms > end - start:
            issues.add(f"{p}.style.fade_in", "fade_in + fade_out is longer than the overlay")
        else:
            out.append(OverlaySlot(overlay=overlay, start_ms=start, end_ms=min(end, total)))
    return tuple(out)


def check_audio(
    audio: spec.Audio, total: int, durations: Mapping[str, int], issues: Issues
) -> None:
    if audio.voiceover_url and audio.voiceover_delay_ms >= total > 0:
        issues.add(
            "audio.voiceover_delay",
            f"{secs(audio.voiceover_delay_ms)} is not before the end of the timeline "
            f"({secs(total)} s)",
        )
    if audio.music_fade_in_ms + audio.music_fade_out_ms > total > 0:
        issues.add("audio.music_fade_in", "music fades are longer than the timeline")


def clip_length(
    p: str,
    clip: spec.Clip,
    trim_start: int,
    source_ms: int | None,
    issues: Issues,
    extendable: bool = False,
) -> int | None:
    """The clip's length from the trim pair, else the placement pair, else the source. An
    `extendable` clip (graph/extend.py) may be placed longer than its trim."""
    trim_len = None
    if clip.trim_end_ms is not None:
        trim_len = clip.trim_end_ms - trim_start
        if trim_len <= 0:
            issues.add(
                f"{p}.trim_end",
                f"trim_end {secs(clip.trim_end_ms)} must be after trim_start {secs(trim_start)}",
            )
            return None
    placed_len = _placed_length(p, clip, issues)
    if placed_len == 0:
        return None
    if extendable and trim_len is not None and placed_len is not None and trim_len < placed_len:
        return placed_len
    if trim_len is not None and placed_len is not None and abs(trim_len - placed_len) > 1:
        issues.add(
            f"{p}.end_time",
            f"end_time - start_time ({secs(placed_len)} s) differs from "
            f"trim_end - trim_start ({secs(trim_len)} s)",
        )
        return None
    if trim_len is not None or placed_len is not None:
        return trim_len if trim_len is not None else placed_len
    if clip.end_ms is None and source_ms is not None:
        if source_ms - trim_start <= 0:
            issues.add(
                f"{p}.trim_start",
                f"trim_start {secs(trim_start)} is past the source's end ({secs(source_ms)} s)",
            )
            return None
        return source_ms - trim_start
    return None


def _placed_length(p: str, clip: spec.Clip, issues: Issues) -> int | None:
    """The length the placement pair or `duration` gives (None: neither; 0: refused)."""
    placed_len = None
    if clip.start_ms is not None and clip.end_ms is not None:
        placed_len = clip.end_ms - clip.start_ms
        if placed_len <= 0:
            issues.add(
                f"{p}.end_time",
                f"end_time {secs(clip.end_ms)} must be after start_time {secs(clip.start_ms)}",
            )
            return 0
    if clip.duration_ms is not None:  # `duration`: the placed length, whatever the source
        if placed_len is not None and abs(placed_len - clip.duration_ms) > 1:
            issues.add(
                f"{p}.duration",
                f"{secs(clip.duration_ms)} s differs from end_time - start_time "
                f"({secs(placed_len)} s)",
            )
            return 0
        placed_len = clip.duration_ms
    return placed_len
