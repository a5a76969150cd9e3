"""Job rows for tests: queued compositions with distinct, ordered creation times, and a
composition run to its end through the real lifecycle in process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from vidsvc.config import Settings
from vidsvc.jobs import Job, JobKind, JobState, new_job_id, utcnow
from vidsvc.runner import execute, lifecycle
from vidsvc.store import Stores
from vidsvc.work.kinds import handlers

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


async def execute_composition(doc: dict[str, Any], settings: Settings, stores: Stores) -> Job:
    """`doc` created, claimed and run to its end by the real lifecycle and handlers, in process
    (no server, no pool); the job as it ended."""
    now = utcnow()
    job = Job(id=new_job_id(), kind=JobKind.COMPOSITION, state=JobState.QUEUED,
              payload=doc, created_at=now, updated_at=now)  # fmt: skip
    await stores.jobs.create(job)
    claimed = await stores.jobs.claim(job.id, owner="w", lease_s=60)
    assert claimed is not None
    deps = lifecycle.Deps(settings=settings, stores=stores, instance_id="w")
    final = await execute.execute(claimed, deps, lifecycle.Control(), handlers())
    assert final is not None
    return final
