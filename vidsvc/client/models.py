"""What the client returns and raises: typed views of the API's JSON bodies.

The bodies are docs/contract.md §2 and §4.

Each dataclass keeps the whole body in `raw`, so fields the server adds later are not lost.
Depends on nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TERMINAL = frozenset({"completed", "failed", "cancelled"})


class VidsvcClientError(Exception):
    """An error answer of the API: `code` is the envelope's (VALIDATION_ERROR, QUEUE_FULL…)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status
        self.details = dict(details or {})
        self.request_id = request_id

    @classmethod
    def from_envelope(cls, status: int, body: Any) -> VidsvcClientError:
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            return cls("HTTP_ERROR", f"HTTP {status} without an error envelope", status=status)
        return cls(
            str(error.get("code", "HTTP_ERROR")),
            str(error.get("message", "")),
            status=status,
            details=error.get("details") if isinstance(error.get("details"), Mapping) else None,
            request_id=error.get("request_id"),
        )


class CompositionFailed(VidsvcClientError):
    """wait(): the composition ended `failed` (its error's code) or `cancelled` (CANCELLED)."""

    def __init__(self, composition: Composition) -> None:
        error = composition.error or {}
        code = str(error.get("code") or ("CANCELLED" if composition.cancelled else "FAILED"))
        message = str(error.get("message") or f"the composition was {composition.status}")
        super().__init__(code, message, details=error.get("details"))
        self.composition = composition


@dataclass(frozen=True, slots=True)
class Progress:
    stage: str
    percentage: float
    message: str = ""
    eta_seconds: float | None = None  #: while encoding, once FFmpeg reports a speed
    speed: float | None = None  #: FFmpeg's render speed while encoding (1.0 is realtime)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Progress:
        eta, speed = data.get("eta_seconds"), data.get("speed")
        return cls(
            stage=str(data.get("stage", "")),
            percentage=float(data.get("percentage") or 0),
            message=str(data.get("message") or ""),
            eta_seconds=None if eta is None else float(eta),
            speed=None if speed is None else float(speed),
        )


@dataclass(frozen=True, slots=True)
class Accepted:
    """The 202 answer of submit()."""

    composition_id: str
    status: str
    created_at: str
    estimated_duration: float | None
    websocket_url: str
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Accepted:
        eta = data.get("estimated_duration")
        return cls(
            composition_id=str(data["composition_id"]),
            status=str(data["status"]),
            created_at=str(data.get("created_at", "")),
            estimated_duration=None if eta is None else float(eta),
            websocket_url=str(data["websocket_url"]),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """The 200 answer of plan() (a dry run): the timeline a render would make, nothing made.
    Seconds throughout; each of `clips` is the API's JSON object (index, start_time, end_time,
    trim_start, trim_end, transition_in, extended_by, voiceover…)."""

    duration: float
    width: int
    height: int
    fps: int
    clips: tuple[Mapping[str, Any], ...]
    warnings: tuple[str, ...]
    estimated_duration: float | None
    raw: Mapping[str, Any] = field(repr=False)  #: the whole `plan` object

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        plan = data["plan"]
        eta = plan.get("estimated_duration")
        return cls(
            duration=float(plan["duration"]),
            width=int(plan["width"]),
            height=int(plan["height"]),
            fps=int(plan["fps"]),
            clips=tuple(plan.get("clips") or ()),
            warnings=tuple(str(w) for w in plan.get("warnings") or ()),
            estimated_duration=None if eta is None else float(eta),
            raw=plan,
        )


@dataclass(frozen=True, slots=True)
class Composition:
    """GET /api/v1/compositions/{id}."""

    composition_id: str
    status: str
    progress: Progress
    created_at: str
    updated_at: str
    output_url: str | None
    thumbnail_url: str | None
    error: Mapping[str, Any] | None
    websocket_url: str | None
    raw: Mapping[str, Any] = field(repr=False)
    #: every rendition once completed: {rendition, width, height, format, duration, output_url,
    #: thumbnail_url}; download(…, rendition=N) fetches one
    outputs: tuple[Mapping[str, Any], ...] = ()

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Composition:
        error = data.get("error")
        return cls(
            composition_id=str(data["composition_id"]),
            status=str(data["status"]),
            progress=Progress.from_json(data.get("progress") or {}),
            created_at=str(data.get("created_at", "")),
            updated_at=str(data.get("updated_at", "")),
            output_url=data.get("output_url"),
            thumbnail_url=data.get("thumbnail_url"),
            error=error if isinstance(error, Mapping) else None,
            websocket_url=data.get("websocket_url"),
            raw=data,
            outputs=tuple(o for o in data.get("outputs") or () if isinstance(o, Mapping)),
        )


@dataclass(frozen=True, slots=True)
class Template:
    """A saved template: POST /api/v1/templates answers it (without `composition`), and so does
    each item of templates(); template() has the composition too."""

    template_id: str
    name: str
    placeholders: tuple[str, ...]
    created_at: str
    composition: Mapping[str, Any] | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Template:
        return cls(
            template_id=str(data["template_id"]),
            name=str(data.get("name", "")),
            placeholders=tuple(str(p) for p in data.get("placeholders") or ()),
            created_at=str(data.get("created_at", "")),
            composition=data.get("composition"),
            raw=data,
        )
