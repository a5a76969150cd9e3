"""What /metrics learns from the compositions this instance completed: whether smart rendering
copied spans (and how many seconds each way), and the measured peak against the memory
estimate. The runner's metrics are kind-agnostic; these read a CompositionOutcome, so they are
this kind's, in a registry of their own that GET /metrics renders beside the runner's."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from vidsvc.jobs import Job, JobState
from vidsvc.work.compositions.outcome import CompositionOutcome


class CompositionMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.memory_ratio = Histogram(
            "vidsvc_render_memory_peak_to_estimate",
            "A completed render's measured peak RSS over its estimate (graph/memory.py)",
            ["kind"],
            buckets=(0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0),
            registry=r,
        )
        self.smart_renders = Counter(
            "vidsvc_smart_renders",
            "Rendered compositions by whether smart rendering copied spans of render-ready clips",
            ["applied"],
            registry=r,
        )
        self.smart_seconds = Counter(
            "vidsvc_smart_render_seconds",
            "Output seconds of smart renders, copied from render-ready clips or encoded",
            ["span"],
            registry=r,
        )

    def observe(self, job: Job) -> None:
        """A composition this instance finished; a cache hit rendered nothing to count."""
        if job.state is not JobState.COMPLETED:
            return
        outcome = CompositionOutcome.from_dict(job.metadata)
        if outcome.usage.render_seconds <= 0:
            return
        plan = outcome.smart_render
        if plan is not None:
            applied = plan.get("applied") is True
            self.smart_renders.labels(applied=str(applied).lower()).inc()
            if applied:
                self.smart_seconds.labels(span="copied").inc(float(plan.get("copied_seconds", 0)))
                self.smart_seconds.labels(span="encoded").inc(
                    float(plan.get("encoded_seconds", 0))
                )
        peak, estimate = outcome.usage.memory_peak_mb, outcome.memory_estimate_mb
        if peak is not None and estimate:
            self.memory_ratio.labels(kind=job.kind.value).observe(peak / estimate)
