"""A planned timeline as values: each clip's slot and the timeline that holds them.

graph/timeline.py makes them; the graph, smart rendering and the dry run's plan read them.
Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vidsvc.graph.look import Look
from vidsvc.graph.narration import Spoken, Voice
from vidsvc.graph.timeline_rules import OverlaySlot


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipSlot:
    index: int
    source: str
    in_ms: int  #: where the trim starts in the source
    dur_ms: int  #: length on the output timeline (= the trim's length)
    start_ms: int  #: placement on the output timeline
    transition: str  #: into this clip
    transition_ms: int
    volume: float
    look: Look  #: fit, motion, colour and fades, resolved (graph/look.py)
    voice: Voice | None = None  #: the clip's narration (graph/narration.py)
    extend: str = "hold"  #: how the source's last `extended_ms` are made (spec.EXTENDS)
    extended_ms: int = 0  #: how much longer the clip is than its source range

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.dur_ms

    @property
    def source_ms(self) -> int:
        """How much of the source the clip shows (its trimmed range, when it is extended)."""
        return self.dur_ms - self.extended_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    clips: tuple[ClipSlot, ...]
    overlays: tuple[OverlaySlot, ...]
    duration_ms: int
    warnings: tuple[str, ...] = ()  #: what the plan did that the request did not say

    def spoken(self) -> tuple[Spoken, ...]:
        """Every narration on the output timeline, in order."""
        return tuple(
            Spoken(
                start_ms=s.start_ms + s.voice.delay_ms,
                end_ms=s.start_ms + s.voice.delay_ms + s.voice.audible_ms,
                text=s.voice.text,
                words=s.voice.words,
            )
            for s in self.clips
            if s.voice is not None
        )


def refit(timeline: Timeline, fit: str) -> Timeline:
    """The timeline in a shape whose default fit is `fit` (a rendition's): a clip without a
    fit of its own takes it."""
    clips = tuple(
        replace(s, look=replace(s.look, fit=s.look.own_fit or fit)) for s in timeline.clips
    )
    return replace(timeline, clips=clips)
