"""The PostgreSQL row <-> Job codec: timestamptz as aware UTC datetimes, jsonb as JSON text.

Kept apart from postgres.py so the store reads as its queries; imports only vidsvc.jobs and
store.rules (asyncpg only for its types).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from vidsvc.jobs import Job, JobError, JobKind, JobState, Lease, Progress
from vidsvc.store import rules

if TYPE_CHECKING:
    import asyncpg


def json_text(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def progress_doc(progress: Progress) -> dict[str, Any]:
    return progress.to_dict()


#: Columns that hold a Job field unchanged, both ways; then the timestamptz ones.
_SAME = "id user_id attempts max_attempts progress_seq output_key thumbnail_key cancel_requested"
_TIMES = ("created_at", "updated_at", "started_at", "finished_at")


def job_params(job: Job) -> dict[str, Any]:
    """The insert_job parameters of a Job (JSON as text: asyncpg's jsonb default codec)."""
    lease = job.lease
    params = {name: getattr(job, name) for name in _SAME.split()}
    # as_utc refuses naive datetimes, which asyncpg would silently take as UTC
    params |= {name: (t := getattr(job, name)) and rules.as_utc(t) for name in _TIMES}
    return params | {
        "kind": job.kind.value,
        "status": job.state.value,
        "config": json_text(dict(job.payload)),
        "progress": json_text(progress_doc(job.progress)),
        "error": job.error and json_text(job.error.to_dict()),
        "metadata": json_text(dict(job.metadata)),
        "lease_owner": lease and lease.owner,
        "lease_token": lease and lease.token,
        "lease_expires_at": lease and rules.as_utc(lease.expires_at),
    }


def job_of(row: asyncpg.Record) -> Job:
    """A compositions row as a Job (timestamptz arrives as aware UTC datetimes)."""
    token, expires = row["lease_token"], row["lease_expires_at"]
    lease = (
        None if token is None else Lease(owner=row["lease_owner"], token=token, expires_at=expires)
    )
    p = json.loads(row["progress"])
    # jsonb keeps the 100 of a float8 expression as the integer 100
    progress = Progress.from_dict(p, live=row["status"] == JobState.PROCESSING.value)
    return Job(
        **{name: row[name] for name in (*_SAME.split(), *_TIMES)},
        kind=JobKind(row["kind"]),
        state=JobState(row["status"]),
        payload=json.loads(row["config"]),
        progress=progress,
        error=row["error"] and JobError.from_dict(json.loads(row["error"])),
        lease=lease,
        metadata=json.loads(row["metadata"]),
    )
