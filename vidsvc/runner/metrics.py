"""What the runner measures: per-job usage rows (job_metrics) and its Prometheus metrics.

A job's FFmpeg runs (one per composition, one per clip of a clips job) become one job_metrics
row: wall and CPU seconds and peak memory of the FFmpeg children themselves (media/ffreport.py),
and FFmpeg's own figures from its last -progress block. The same numbers feed the render
histograms here and the estimator. The Prometheus objects live in a registry of their own per
Runner (tests build many), which GET /metrics (vidsvc/http/metrics.py) renders beside the
HTTP layer's; gauges that mirror the store are refreshed by `collect` at scrape time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from vidsvc.errors import VidsvcError
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.media.ffmpeg import FFmpegRun
from vidsvc.media.load import Load
from vidsvc.runner.usage import Usage
from vidsvc.store import Stores

log = logging.getLogger(__name__)
#: Wall seconds of a job's FFmpeg runs: a few seconds (short clips) to the 5-minute timeout.
DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
#: Output seconds per wall second: well under realtime (4K, slow presets) to far above it.
SPEED_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20)


async def record_job_metrics(
    stores: Stores,
    job: Job,
    runs: Sequence[FFmpegRun],
    *,
    timings: Mapping[str, float] | None = None,
) -> None:
    """One job_metrics row for a finished job; best effort (the job itself is done)."""
    usage = Usage.of(runs)
    stats: dict[str, Any] = {"timings": dict(timings or {})}
    last = [r.last.stats() if r.last else {} for r in runs]
    if len(last) == 1:
        stats |= last[0]
    else:  # a clips job: one FFmpeg run per clip, in order
        stats["runs"] = last
    try:
        await stores.jobs.record_metrics(
            job.id,
            {
                "job_type": job.kind.value,
                "duration_seconds": usage.render_seconds,
                "cpu_time": usage.cpu_seconds,
                "memory_peak_mb": usage.memory_peak_mb,
                "ffmpeg_stats": stats,
            },
        )
    except VidsvcError:
        log.warning("could not record metrics", extra={"job_id": job.id})


class RunnerMetrics:
    """The runner's Prometheus metrics, in their own registry."""

    def __init__(self, load: Load) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Gauge(
            "vidsvc_jobs", "Jobs in the store by state and kind", ["state", "kind"], registry=r
        )
        self.queue_depth = Gauge(
            "vidsvc_queue_depth", "Jobs waiting for a worker (queued, all kinds)", registry=r
        )
        self.ffmpeg = Gauge(
            "vidsvc_ffmpeg_processes", "FFmpeg renders running in this process", registry=r
        )
        self.ffmpeg.set_function(lambda: load.encoding)
        self.memory_reserved = Gauge(
            "vidsvc_render_memory_reserved_mb",
            "Estimated peak memory (MiB) of the renders running here (media/memory_gate.py)",
            registry=r,
        )
        self.memory_reserved.set_function(lambda: load.memory.reserved if load.memory else 0)
        self.memory_budget = Gauge(
            "vidsvc_render_memory_budget_mb",
            "The memory (MiB) renders of this instance may hold together (RENDER_MEMORY_MB)",
            registry=r,
        )
        self.memory_budget.set_function(lambda: load.memory.budget if load.memory else 0)
        self.finished = Counter(
            "vidsvc_jobs_finished",
            "Jobs this instance ran to a terminal state",
            ["kind", "state"],
            registry=r,
        )
        self.render_seconds = Histogram(
            "vidsvc_render_duration_seconds",
            "Wall seconds of a completed job's FFmpeg runs (cache hits excluded)",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.render_speed = Histogram(
            "vidsvc_render_speed",
            "Output seconds rendered per wall second, per completed job (cache hits excluded)",
            ["kind"],
            buckets=SPEED_BUCKETS,
            registry=r,
        )

    def observe(self, job: Job) -> None:
        """A job this instance finished (an after-job hook); what its kind alone records is
        its handler's (the compositions handler's smart-render and memory metrics)."""
        kind = job.kind.value
        self.finished.labels(kind=kind, state=job.state.value).inc()
        if job.state is not JobState.COMPLETED:
            return
        usage = Usage.from_dict(job.metadata)
        if usage.render_seconds <= 0:
            return  # a render-cache hit ran no FFmpeg
        self.render_seconds.labels(kind=kind).observe(usage.render_seconds)
        if usage.output_seconds:
            self.render_speed.labels(kind=kind).observe(
                usage.output_seconds / usage.render_seconds
            )

    async def collect(self, stores: Stores) -> None:
        """Refresh the gauges that mirror the store (one COUNT per state and kind)."""
        queued = 0
        for state in JobState:
            for kind in JobKind:
                count = await stores.jobs.count(state, kind=kind)
                self.jobs.labels(state=state.value, kind=kind.value).set(count)
                queued += count if state is JobState.QUEUED else 0
        self.queue_depth.set(queued)
