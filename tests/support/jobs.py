"""Job rows for tests: queued compositions with distinct, ordered creation times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from vidsvc.jobs import Job, JobKind, JobState, new_job_id

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def make_job(n: int = 0, **changes: Any) -> Job:
    """A queued composition created n seconds after T0 (distinct, ordered creation times)."""
    at = T0 + timedelta(seconds=n)
    values: dict[str, Any] = {
        "id": new_job_id(),
        "kind": JobKind.COMPOSITION,
        "state": JobState.QUEUED,
        "payload": {"clips": [{"url": "s3://b/a.mp4"}], "output": {"fps": 30}},
        "created_at": at,
        "updated_at": at,
    }
    values.update(changes)
    return Job(**values)
