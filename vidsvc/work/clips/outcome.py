"""ClipsOutcome: what a completed clips job records in its row's metadata, and the callback
deliveries noted beside it.

The clips handler writes the outcome and callback delivery notes each attempt; the status
route, the file route and the callback body read it through `from_dict`, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vidsvc.runner.usage import Usage


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipResult:
    clip: str  #: the clip's URL
    outputs: Mapping[str, str]  #: product name → its blob key
    probe: Mapping[str, Any]  #: the source's probe
    render_ready: Mapping[str, Any] | None = None  #: the video product's fingerprint, if ready

    def to_dict(self) -> dict[str, Any]:
        return {
            "clip": self.clip,
            "outputs": dict(self.outputs),
            "probe": dict(self.probe),
            "render_ready": None if self.render_ready is None else dict(self.render_ready),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """The callback's delivery so far: every attempt's note, and whether one succeeded."""

    url: str | None = None
    attempts: Sequence[Mapping[str, Any]] = ()
    delivered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "attempts": list(self.attempts), "delivered": self.delivered}


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipsOutcome:
    results: Sequence[ClipResult] = ()  #: one per clip, in request order
    commands: Sequence[Sequence[str]] = ()  #: one FFmpeg argv per clip
    operations: Sequence[str] = ()
    instance: str | None = None
    attempt: int = 1
    usage: Usage = field(default_factory=Usage)
    callback: Delivery = field(default_factory=Delivery)  #: written apart, as attempts go

    def to_dict(self) -> dict[str, Any]:
        """The completion's metadata (the callback note is annotated apart: not here)."""
        return {
            "results": [r.to_dict() for r in self.results],
            "commands": [list(c) for c in self.commands],
            "operations": list(self.operations),
            "instance": self.instance,
            "attempt": self.attempt,
            **self.usage.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClipsOutcome:
        results = [r for r in d.get("results") or () if isinstance(r, Mapping)]
        note = d.get("callback")
        note = note if isinstance(note, Mapping) else {}
        return cls(
            results=tuple(
                ClipResult(
                    clip=str(r.get("clip", "")),
                    outputs=r.get("outputs") or {},
                    probe=r.get("probe") or {},
                    render_ready=r.get("render_ready"),
                )
                for r in results
            ),
            commands=tuple(d.get("commands") or ()),
            operations=tuple(d.get("operations") or ()),
            instance=d.get("instance"),
            attempt=int(d.get("attempt") or 1),
            usage=Usage.from_dict(d),
            callback=Delivery(
                url=note.get("url"),
                attempts=tuple(note.get("attempts") or ()),
                delivered=bool(note.get("delivered", False)),
            ),
        )
