"""A clip longer than its source range (`clips[].extend`): planned, then drawn.

A narrated clip (`duration: "voiceover"`) lasts as long as its narration, which may outrun the
source; a clip with `extend` given may be placed longer than its source too. The rest is made:

- `hold`: the last frame held (tpad, as a trim a little past the end always was), silence.
- `loop`: the trimmed range again and again. Each repeat is its own input of the same file,
  opened at the range's start, joined by `concat`: concat reads one input at a time, so
  memory does not grow with the repeats (a `loop` filter would hold the whole range decoded),
  and a range that does not start at the file's start loops exactly (`-stream_loop` goes back
  to the file's start). At most MAX_REPEATS inputs.
- `slow`: the range slowed to fill the clip (video timestamps stretched, sound by `atempo`,
  which keeps its pitch), at most spec.MAX_SLOWDOWN, then the last frame held.

Stills have no source length: they simply last. Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

import math

from vidsvc import spec
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.model import Source
from vidsvc.graph.timeline_rules import Issues, secs

MAX_REPEATS = 32
#: How the plan's warnings name what was done.
DONE = {"hold": "held", "loop": "looped", "slow": "slowed"}


def mode(clip: spec.Clip) -> str | None:
    """How the clip may outrun its source: its `extend`, `hold` for a narrated clip, or None
    (it must fit its source, as any clip did before narration)."""
    if clip.extend is not None:
        return clip.extend
    return "hold" if clip.duration_from_voiceover else None


def plan(p: str, clip: spec.Clip, length_ms: int, range_ms: int, issues: Issues) -> int | None:
    """How much longer than its source range `range_ms` the clip is (0: it fits); None, with
    the reason noted, when it may not outrun its source this far."""
    over = length_ms - range_ms
    if over <= 0:
        return 0
    how = mode(clip)
    if how == "loop" and math.ceil(length_ms / range_ms) > MAX_REPEATS:
        issues.add(
            f"{p}.extend",
            f"looping its {secs(range_ms)} s range to {secs(length_ms)} s takes "
            f"{math.ceil(length_ms / range_ms)} repeats, over {MAX_REPEATS}; use hold or slow",
        )
        return None
    return over if how is not None else None


def warning(p: str, how: str, over_ms: int) -> str:
    return f"{p} was {DONE[how]} for {secs(over_ms)} s (its source is shorter than the clip)"


def slowdown(length_ms: int, range_ms: int) -> float:
    """How much `slow` stretches the range: to fill the clip, at most spec.MAX_SLOWDOWN."""
    return min(spec.MAX_SLOWDOWN, length_ms / range_ms)


def repeats(length_ms: int, range_ms: int) -> int:
    return math.ceil(length_ms / range_ms)


def video(
    g: GraphBuilder,
    source: Source,
    options: tuple[str, ...],
    how: str,
    length_ms: int,
    range_ms: int,
) -> str:
    """The range's pictures, looped or slowed (hold: as decoded), timestamps from 0; the
    caller cuts and holds them to the clip's frames."""
    if how == "loop":
        pads = [f"{g.input(source.name, options)}:v" for _ in range(repeats(length_ms, range_ms))]
        pads = [g.chain(pad, ("setpts", {"expr": "PTS-STARTPTS"})) for pad in pads]
        return g.add("concat", tuple(pads), n=len(pads), v=1, a=0)
    pad = g.chain(f"{g.input(source.name, options)}:v", ("setpts", {"expr": "PTS-STARTPTS"}))
    if how == "slow":
        factor = slowdown(length_ms, range_ms)
        return g.chain(pad, ("setpts", {"expr": f"PTS*{factor:.6f}"}))
    return pad


def sound(
    g: GraphBuilder,
    source: Source,
    options: tuple[str, ...],
    how: str,
    length_ms: int,
    range_ms: int,
) -> str:
    """The range's sound, looped or slowed (hold: as it is; silence follows)."""
    if how == "loop":
        pads = [f"{g.input(source.name, options)}:a" for _ in range(repeats(length_ms, range_ms))]
        pads = [g.chain(pad, ("asetpts", {"expr": "PTS-STARTPTS"})) for pad in pads]
        return g.add_audio("concat", tuple(pads), n=len(pads), v=0, a=1)
    pad = f"{g.input(source.name, options)}:a"
    if how == "slow":
        return g.chain(pad, ("atempo", {"tempo": round(1 / slowdown(length_ms, range_ms), 6)}))
    return pad
