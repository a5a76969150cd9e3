"""The SQLite row <-> Job codec: fixed-width UTC text times, JSON text columns.

Kept apart from sqlite.py so the store reads as its queries.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from vidsvc.jobs import Job, JobError, JobKind, JobState, Lease, Progress
from vidsvc.store import rules

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so text order is time order


def to_text(value: datetime) -> str:
    return rules.as_utc(value).strftime(TIME_FORMAT)


def from_text(value: str) -> datetime:
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)


def json_text(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def asdict_progress(progress: Progress) -> dict[str, Any]:
    return progress.to_dict()


def job_params(job: Job) -> dict[str, Any]:
    """The insert_job parameters of a Job."""
    return {
        "id": job.id,
        "user_id": job.user_id,
        "kind": job.kind.value,
        "config": json_text(dict(job.payload)),
        "status": job.state.value,
        "progress": json_text(asdict_progress(job.progress)),
        "progress_seq": job.progress_seq,
        "output_key": job.output_key,
        "thumbnail_key": job.thumbnail_key,
        "error": job.error and json_text(job.error.to_dict()),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "lease_owner": job.lease and job.lease.owner,
        "lease_token": job.lease and job.lease.token,
        "lease_expires_at": job.lease and to_text(job.lease.expires_at),
        "cancel_requested": int(job.cancel_requested),
        "created_at": to_text(job.created_at),
        "updated_at": to_text(job.updated_at),
        "started_at": job.started_at and to_text(job.started_at),
        "finished_at": job.finished_at and to_text(job.finished_at),
        "metadata": json_text(dict(job.metadata)),
    }


def job_of(row: sqlite3.Row) -> Job:
    """A compositions row as a Job."""
    lease = None
    if row["lease_token"] is not None:
        expires = from_text(row["lease_expires_at"])
        lease = Lease(owner=row["lease_owner"], token=row["lease_token"], expires_at=expires)
    p = json.loads(row["progress"])
    p["percentage"] = float(p["percentage"])  # SQLite's JSON writes 100.0 back as 100
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        state=JobState(row["status"]),
        payload=json.loads(row["config"]),
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        user_id=row["user_id"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        progress=Progress.from_dict(p, live=row["status"] == JobState.PROCESSING.value),
        progress_seq=row["progress_seq"],
        error=row["error"] and JobError.from_dict(json.loads(row["error"])),
        output_key=row["output_key"],
        thumbnail_key=row["thumbnail_key"],
        lease=lease,
        cancel_requested=bool(row["cancel_requested"]),
        started_at=row["started_at"] and from_text(row["started_at"]),
        finished_at=row["finished_at"] and from_text(row["finished_at"]),
        metadata=json.loads(row["metadata"]),
    )
