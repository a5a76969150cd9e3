"""How clips meet: a transition's room, and overlaps only as crossfades.

graph/timeline.py places the clips and calls these. Pure.
"""

from __future__ import annotations

from vidsvc import spec
from vidsvc.graph.slots import ClipSlot
from vidsvc.graph.timeline_rules import Issues, secs


def transition_ok(p: str, i: int, clip: spec.Clip, td: int, issues: Issues) -> bool:
    """A crossfade needs a clip before it; a blend or a fade needs a length."""
    crossfade = spec.is_crossfade(clip.transition)
    if i == 0 and crossfade:
        issues.add(
            f"{p}.transition_in",
            f"the first clip cannot use {clip.transition} (there is nothing to blend "
            "with); use fade or cut",
        )
        return False
    if (crossfade or clip.transition == "fade") and td <= 0:
        issues.add(f"{p}.transition_duration", "must be above 0 for this transition")
        return False
    return True


def check_join(
    p: str, clip: spec.Clip, start: int, td: int, prev: ClipSlot, issues: Issues
) -> bool:
    """Overlaps only as crossfades (of exactly the transition's length); gaps are fine."""
    if spec.is_crossfade(clip.transition):
        expected = prev.end_ms - td
        if abs(start - expected) > 1:
            issues.add(
                f"{p}.start_time",
                f"a {secs(td)} s {clip.transition} must start {secs(td)} s before "
                f"clips[{prev.index}] ends, at {secs(expected)}, not {secs(start)}",
            )
            return False
    elif start < prev.end_ms - 1:
        issues.add(
            f"{p}.start_time",
            f"{secs(start)} overlaps clips[{prev.index}] (which ends at "
            f"{secs(prev.end_ms)}); overlaps are allowed only as crossfades",
        )
        return False
    return True


def check_transition_room(slots: list[ClipSlot | None], issues: Issues) -> None:
    """A transition may not be longer than either clip, nor meet the next one inside a clip."""
    for i, slot in enumerate(slots):
        if slot is None or slot.transition == "cut":
            continue
        p = f"clips[{i}].transition_duration"
        prev = slots[i - 1] if i > 0 else None
        for other in (slot, prev):
            if other is not None and slot.transition_ms > other.dur_ms:
                issues.add(
                    p,
                    f"{secs(slot.transition_ms)} s is longer than clips[{other.index}] "
                    f"({secs(other.dur_ms)} s)",
                )
                return
        nxt = slots[i + 1] if i + 1 < len(slots) else None
        out_ms = nxt.transition_ms if nxt is not None and nxt.transition != "cut" else 0
        if slot.transition_ms + out_ms > slot.dur_ms:
            issues.add(
                p,
                f"the transitions into and out of clips[{i}] "
                f"({secs(slot.transition_ms)} s + {secs(out_ms)} s) are longer than "
                f"the clip ({secs(slot.dur_ms)} s)",
            )
            return
