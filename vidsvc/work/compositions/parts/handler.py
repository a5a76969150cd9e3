"""The Handler of JobKind.PART: a split render's video part, sound or join (orders.py).

Parts are inserted by their composition's run, never posted: `admit` refuses. A part that
fails (after its own attempts: a lease lost to a dead instance is simply claimed again) falls
its parent back to one pass; a part whose parent stopped waiting ends cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vidsvc.config import Settings
from vidsvc.errors import CompositionNotFound, ValidationError
from vidsvc.jobs import Job, JobState
from vidsvc.runner.lifecycle import Deps, JobIds, Queue, terminal
from vidsvc.runner.reporter import Reporter
from vidsvc.work.compositions.parts import fanin, fanout, work
from vidsvc.work.compositions.parts.join import run_join
from vidsvc.work.compositions.parts.keeper import ParentGone
from vidsvc.work.compositions.parts.metrics import SplitMetrics
from vidsvc.work.compositions.parts.orders import ID, JOIN, Order


class Parts:
    ids = JobIds(
        pattern=re.compile(ID.pattern),
        not_found=lambda job_id: CompositionNotFound(f"part {job_id[:80]!r} does not exist"),
    )

    def __init__(self) -> None:
        self.metrics = SplitMetrics()
        self.registry = self.metrics.registry  #: rendered by GET /metrics

    async def estimate(self, job: Job, queue: Queue) -> float | None:
        return None

    async def admit(self, document: Mapping[str, Any], settings: Settings) -> Job:
        raise ValidationError("parts are made by a composition's run, not posted")

    async def run(self, job: Job, deps: Deps, report: Reporter) -> Job | None:
        order = Order.of(job.payload)
        try:
            if order.role == JOIN:
                return await run_join(job, order, deps, report)
            return await work.render(job, order, deps, report)
        except ParentGone:  # nothing waits for it: not a failure of the part
            jobs = deps.stores.jobs
            return await terminal(lambda: jobs.finish(job.id, job.token, JobState.CANCELLED))

    async def finished(self, job: Job, deps: Deps) -> None:
        """What /metrics learns; a failed part or join: its parent, if still waiting on this
        split, renders in one pass instead."""
        order = Order.of(job.payload)
        joined = job.metadata.get("instances_used") if order.role == JOIN else None
        self.metrics.observe(job, joined if isinstance(joined, int) else None)
        if job.state is not JobState.FAILED:
            return
        parent = await deps.stores.jobs.get(order.parent)
        if parent is not None and fanout.waiting(parent) and parent.token == order.parent_token:
            await fanout.end(parent, deps, JobState.QUEUED)
            self.metrics.fell_back()

    async def sweep(self, deps: Deps) -> None:
        await fanin.sweep(deps)

    async def close(self, timeout: float) -> None:
        return None
