"""Jobs as values: identity, state, progress snapshot, lease, error, and the event codec.

The database row is the truth (docs/reliability.md §0.1); these are its frozen image. Times are
timezone-aware UTC datetimes. A leaf: imports nothing of vidsvc; no I/O.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

JobId = str


class JobState(StrEnum):
    QUEUED = "queued"  #: accepted and committed, waiting for a worker
    PROCESSING = "processing"  #: claimed by a worker holding the lease
    COMPLETED = "completed"  #: output and thumbnail stored; terminal
    FAILED = "failed"  #: error set; terminal
    CANCELLED = "cancelled"  #: cancelled by the client; terminal

    @property
    def terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


class JobKind(StrEnum):
    COMPOSITION = "composition"  #: a timeline render (POST /api/v1/compositions)
    CLIPS = "clips"  #: internal clip processing (POST /internal/v1/process-clips)
    #: a piece of a split composition (a video part, its sound or its join): created by the
    #: composition's own run, never posted (docs/rendering.md#split-renders)
    PART = "part"


def new_job_id(kind: JobKind = JobKind.COMPOSITION) -> JobId:
    prefix = "comp" if kind is JobKind.COMPOSITION else "proc"
    return f"{prefix}_{secrets.token_hex(12)}"


def new_token() -> str:
    """A fencing token: a fresh one per claim, so a stale worker's writes are refused."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Stage(StrEnum):
    """Where a job is. A running job moves through the four banded stages in order; the last
    three name a terminal state (the store writes them, at the percentage the job reached)."""

    QUEUED = "queued"
    DOWNLOADING = "downloading"
    VALIDATING = "validating"
    ENCODING = "encoding"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def percentage(self, fraction: float) -> float:
        """The job's percentage `fraction` (0-1) of the way through this stage's band."""
        low, high = BANDS[self]
        return low + (high - low) * min(max(fraction, 0.0), 1.0)


#: stage -> (first percentage, last percentage) of a running job's progress (docs/api.md).
BANDS = {
    Stage.DOWNLOADING: (0.0, 20.0),
    Stage.VALIDATING: (20.0, 25.0),
    Stage.ENCODING: (25.0, 90.0),
    Stage.UPLOADING: (90.0, 99.0),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    stage: str = Stage.QUEUED  #: a Stage's value
    percentage: float = 0.0
    message: str = ""
    #: Seconds until the encode ends, from FFmpeg's speed and the output time left; None
    #: outside encoding or before FFmpeg reports a speed (an ETA is never invented).
    eta_seconds: float | None = None
    speed: float | None = None  #: FFmpeg's render speed (1.0 is realtime); None when unknown

    def to_dict(self) -> dict[str, Any]:
        """The JSON the stores keep (and the record_progress query's parameters)."""
        return {
            "stage": self.stage,
            "percentage": float(self.percentage),
            "message": self.message,
            "eta_seconds": self.eta_seconds,
            "speed": self.speed,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, live: bool = True) -> Progress:
        """`live`: the job is processing. ETA and speed describe a running encode only, so a
        requeued or finished row never shows the last attempt's (rows written before these
        fields existed lack them: None)."""
        eta, speed = (d.get("eta_seconds"), d.get("speed")) if live else (None, None)
        return cls(
            stage=d["stage"],
            percentage=float(d["percentage"]),  # JSON may give 100 back for 100.0
            message=d["message"],
            eta_seconds=None if eta is None else float(eta),
            speed=None if speed is None else float(speed),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class JobError:
    code: str  #: an error code of docs/contract.md §2
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": dict(self.details)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> JobError:
        return cls(code=d["code"], message=d["message"], details=d.get("details") or {})


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    owner: str  #: the instance id holding the job
    token: str  #: fencing token of this claim
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    id: JobId
    kind: JobKind
    state: JobState
    payload: Mapping[str, Any]  #: the request body as accepted (JSON)
    created_at: datetime
    updated_at: datetime
    user_id: str | None = None
    attempts: int = 0
    max_attempts: int = 3
    progress: Progress = field(default_factory=Progress)
    progress_seq: int = 0  #: increases with every recorded progress or state change
    error: JobError | None = None
    output_key: str | None = None
    thumbnail_key: str | None = None
    lease: Lease | None = None
    cancel_requested: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)  #: timings, probes, command…

    @classmethod
    def queued(
        cls,
        *,
        id: JobId,
        kind: JobKind,
        payload: Mapping[str, Any],
        user_id: str | None,
        max_attempts: int,
    ) -> Job:
        """A new job, not yet stored: what a handler's `admit` hands the Runner."""
        now = utcnow()
        return cls(
            id=id,
            kind=kind,
            state=JobState.QUEUED,
            payload=dict(payload),
            created_at=now,
            updated_at=now,
            user_id=user_id,
            max_attempts=max_attempts,
        )

    @property
    def token(self) -> str:
        """The claim's fencing token, which every worker write presents ("" if unclaimed)."""
        return self.lease.token if self.lease else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobEvent:
    """What goes over pub/sub and the WebSocket: one state or progress change."""

    job_id: JobId
    seq: int
    state: JobState
    progress: Progress
    at: datetime
    error: JobError | None = None
    output_key: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "job_id": self.job_id,
                "seq": self.seq,
                "state": self.state.value,
                **self.progress.to_dict(),
                "at": self.at.isoformat(),
                "error": self.error.to_dict() if self.error else None,
                "output_key": self.output_key,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> JobEvent:
        d = json.loads(raw)
        return cls(
            job_id=d["job_id"],
            seq=d["seq"],
            state=JobState(d["state"]),
            progress=Progress.from_dict(d),
            at=datetime.fromisoformat(d["at"]),
            error=JobError.from_dict(d["error"]) if d.get("error") else None,
            output_key=d.get("output_key"),
        )

    @classmethod
    def of(cls, job: Job) -> JobEvent:
        return cls(
            job_id=job.id,
            seq=job.progress_seq,
            state=job.state,
            progress=job.progress,
            at=job.updated_at,
            error=job.error,
            output_key=job.output_key,
        )
