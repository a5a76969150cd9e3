"""What /metrics learns from the split renders this instance took part in: each part's and
join's seconds by role, how a split ended (joined, or fell back to one pass) and over how many
instances a joined one ran. A registry of the part kind's own, rendered beside the others."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from vidsvc.jobs import Job, JobState
from vidsvc.runner.usage import number
from vidsvc.work.compositions.parts.orders import Order

SECONDS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class SplitMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.seconds = Histogram(
            "vidsvc_split_part_seconds",
            "Wall seconds of each split render's part on the instance that ran it, by role",
            ["role"],
            buckets=SECONDS,
            registry=r,
        )
        self.ended = Counter(
            "vidsvc_split_renders",
            "Split renders by how they ended: joined, or fell back to one pass",
            ["outcome"],
            registry=r,
        )
        self.instances = Histogram(
            "vidsvc_split_instances",
            "Instances that rendered a joined split render's parts",
            buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32),
            registry=r,
        )

    def observe(self, job: Job, instances: int | None = None) -> None:
        """A part or join this instance ended (`instances`: a join's, once it completed the
        composition)."""
        if job.state is not JobState.COMPLETED:
            return
        seconds = number(job.metadata.get("seconds"))
        if seconds is not None:
            self.seconds.labels(role=Order.of(job.payload).role).observe(seconds)
        if instances is not None:
            self.ended.labels(outcome="joined").inc()
            self.instances.observe(instances)

    def fell_back(self) -> None:
        self.ended.labels(outcome="fallback").inc()
