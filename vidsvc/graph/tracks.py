"""Audio tracks on the timeline: `audio.tracks[]` (and the music/voiceover shorthand, which
spec.Audio.all_tracks() turns into tracks) and the clips' narrations, grouped into buses.

- A track sounds from `start_time` for `duration`, or as long as its trimmed range, or (a
  looping one) to the timeline's end; whatever is past the timeline's end is cut (a track
  starting there is not heard, and the plan says so). Fades are on what is heard.
- Looping: a track whose range is the file from `trim_start` on loops with `-stream_loop`
  (as the music shorthand always did); one with a `trim_end` repeats that range as inputs
  joined by concat (graph/extend.py explains why), at most extend.MAX_REPEATS.
- Narrations never overlap (graph/narration.py), so they are one voice track: silence and
  narrations joined by concat, each cut at its clip's end, counted in samples from absolute
  times so no rounding drifts along the timeline.
- Buses: every `music` track summed, every `voice` track plus the narrations summed; ducking
  (graph/ducking.py) lowers the music bus keyed by the voice bus, so any voice lowers all music.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from vidsvc import spec
from vidsvc.graph import extend
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.model import Source
from vidsvc.graph.narration import Voice
from vidsvc.graph.pcm import RATE, fades, normalized, silence
from vidsvc.graph.timeline_rules import Issues, secs


def heard_ms(t: spec.Track, total_ms: int, file_ms: int) -> int:
    """How long the track sounds on a timeline `total_ms` long (0: not at all)."""
    room = total_ms - t.start_ms
    if room <= 0:
        return 0
    if t.duration_ms is not None:
        return min(t.duration_ms, room)
    if t.loops:
        return room
    end = file_ms if t.trim_end_ms is None else min(t.trim_end_ms, file_ms)
    return max(0, min(end - t.trim_start_ms, room))


def check(a: spec.Audio, total_ms: int, durations: Mapping[str, int], issues: Issues) -> list[str]:
    """The tracks' rules once their files are probed; returns the plan's warnings."""
    warnings: list[str] = []
    for field, t in a.all_tracks():
        file_ms = durations.get(t.url)
        if file_ms is None:
            continue
        p = field if field.startswith("audio.tracks") else "audio"
        start_name = "trim_start" if p != "audio" else "music_start"
        if t.trim_start_ms >= file_ms:
            issues.add(
                f"{p}.{start_name}",
                f"{secs(t.trim_start_ms)} is past the file's end ({secs(file_ms)} s)",
            )
        elif t.trim_end_ms is not None and t.trim_end_ms > file_ms + 40:
            issues.add(f"{p}.trim_end", f"{secs(t.trim_end_ms)} is past the file's end "
                       f"({secs(file_ms)} s)")  # fmt: skip
        elif (
            t.loops
            and t.trim_end_ms is not None
            and _repeats(t, total_ms, file_ms) > (extend.MAX_REPEATS)
        ):
            issues.add(f"{p}.trim_end", f"looping its range takes over {extend.MAX_REPEATS} "
                       "repeats; give a longer range")  # fmt: skip
        elif p != "audio" and heard_ms(t, total_ms, file_ms) == 0:
            warnings.append(f"{p} starts at {secs(t.start_ms)} s, at or after the timeline's end "
                            f"({secs(total_ms)} s): it is not heard")  # fmt: skip
    return warnings


def _repeats(t: spec.Track, total_ms: int, file_ms: int) -> int:
    end = file_ms if t.trim_end_ms is None else min(t.trim_end_ms, file_ms)
    return math.ceil(heard_ms(t, total_ms, file_ms) / max(1, end - t.trim_start_ms))


def _opened(g: GraphBuilder, t: spec.Track, source: Source, want_ms: int, skip_ms: int) -> str:
    """The track's file from trim_start, `skip_ms` in, looped as it must be to sound `want_ms`
    from there: the sound a full render has from that point (`-stream_loop` goes back to the
    file's start, not to trim_start, after the first pass, in both)."""
    end = source.duration_ms if t.trim_end_ms is None else min(t.trim_end_ms, source.duration_ms)
    range_ms = end - t.trim_start_ms
    at = t.trim_start_ms + skip_ms
    if not t.loops or range_ms >= want_ms + skip_ms:
        return f"{g.input(source.name, (*_seek(at), '-vn'))}:a"
    if t.trim_end_ms is None:
        if at >= source.duration_ms:  # past the first pass: somewhere in a pass from 0
            at = (at - source.duration_ms) % source.duration_ms
        return f"{g.input(source.name, ('-stream_loop', '-1', *_seek(at), '-vn'))}:a"
    into = skip_ms % range_ms  # repeats of the range: the first one from where the skip lands
    first = (*_seek(t.trim_start_ms + into), "-t", _secs(range_ms - into), "-vn")
    again = (*_seek(t.trim_start_ms), "-t", _secs(range_ms), "-vn")
    count = 1 + math.ceil(max(0, want_ms - (range_ms - into)) / range_ms)
    pads = [
        g.chain(f"{g.input(source.name, first if k == 0 else again)}:a",
                ("asetpts", {"expr": "PTS-STARTPTS"}))
        for k in range(count)
    ]  # fmt: skip
    return pads[0] if count == 1 else g.add_audio("concat", tuple(pads), n=count, v=0, a=1)


def _seek(ms: int) -> tuple[str, ...]:
    return ("-ss", _secs(ms)) if ms else ()


def _secs(ms: int) -> str:
    return f"{ms / 1000:.3f}"


def track(
    g: GraphBuilder,
    t: spec.Track,
    full_ms: int,
    source: Source,
    cut: tuple[int, int] | None = None,
) -> str | None:
    """One track as a pad exactly the timeline long; None when it is not heard. `cut`: only
    (origin, length) of a timeline `full_ms` long is built (graph/window.py): the track is
    sought to the origin, unless the origin falls inside its fade-in (then it is built from
    its start and trimmed, so the fade is the full render's)."""
    want = heard_ms(t, full_ms, source.duration_ms)
    origin, total_ms = cut or (0, full_ms)
    start = t.start_ms - origin
    skip = max(0, -start) if t.fade_in_ms <= max(0, -start) else 0
    if want - skip <= 0 or start >= total_ms:
        return None
    samples, total = (want - skip) * RATE // 1000, total_ms * RATE // 1000
    pad = g.chain(
        normalized(g, _opened(g, t, source, want - skip, skip)),
        ("atrim", {"end_sample": samples}),
        ("apad", {"whole_len": samples}),
        ("volume", {"volume": t.volume}),
    )
    pad = fades(g, pad, samples, 0 if skip else t.fade_in_ms, min(t.fade_out_ms, want))
    if start + skip > 0:
        pad = g.chain(pad, ("adelay", {"delays": f"{start + skip}", "all": 1}))
    elif start + skip < 0:  # built from its start, before the origin: trimmed to it
        early = -(start + skip) * RATE // 1000
        pad = g.chain(
            pad, ("atrim", {"start_sample": early}), ("asetpts", {"expr": "PTS-STARTPTS"})
        )
    return g.chain(pad, ("apad", {"whole_len": total}), ("atrim", {"end_sample": total}))


def narrations(
    g: GraphBuilder,
    voices: Sequence[tuple[int, Voice]],
    total_ms: int,
    sources: Mapping[str, Source],
) -> str | None:
    """Every narration (absolute start, Voice) as one voice track the timeline long."""
    if not voices:
        return None
    pieces: list[str] = []
    at = 0  #: samples laid so far
    for start_ms, voice in voices:
        first = start_ms * RATE // 1000
        samples = (start_ms + voice.heard_ms) * RATE // 1000 - first
        if first > at:
            pieces.append(silence(g, first - at))
        options = ("-t", f"{voice.heard_ms / 1000 + 0.1:.3f}", "-vn")
        pad = normalized(g, f"{g.input(sources[voice.url].name, options)}:a")
        pieces.append(g.chain(pad, ("atrim", {"end_sample": samples}),
                              ("apad", {"whole_len": samples}),
                              ("volume", {"volume": voice.volume})))  # fmt: skip
        at = first + samples
    total = total_ms * RATE // 1000
    if total > at:
        pieces.append(silence(g, total - at))
    joined = g.add_audio("concat", tuple(pieces), n=len(pieces), v=0, a=1)
    return g.chain(joined, ("atrim", {"end_sample": total}))
