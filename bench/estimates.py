"""The estimator's error: the 202's `estimated_duration` against the job's real wall time.

Wall time is the client's: just before the POST to the moment it learnt the job had
completed, which is what an estimate promises a caller. The model learns from finished
jobs, so a job is scored only when its server had already finished WARM jobs when it was
posted ("after the model has a few samples"); earlier ones are listed but not scored.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench.api import Submitted

#: The model's first finished job at a resolution replaces its default speed outright
#: (runner/estimate.py), so one sample is a calibrated model for the same kind of job.
WARM = 1


@dataclass
class Group:
    """The jobs of one kind from one server, in the order they were posted."""

    name: str
    jobs: list[Submitted]
    history: list[Submitted] = field(default_factory=list)  #: every job on the same server

    def scored(self) -> list[Submitted]:
        done = [j.done_at for j in self.history if j.done_at is not None]
        return [
            j
            for j in self.jobs
            if j.estimate is not None
            and j.done is not None
            and sum(1 for at in done if at < j.posted_at) >= WARM
        ]


def ape(job: Submitted) -> float:
    """Absolute percentage error of one job's estimate (0.25: 25 % off)."""
    assert job.estimate is not None
    return abs(job.estimate - job.wall) / job.wall


def group_line(group: Group) -> str:
    scored = group.scored()
    if not scored:
        return f"| {group.name} | 0 of {len(group.jobs)} | – | – | – |"
    mape = statistics.mean(ape(j) for j in scored)
    est = statistics.median(j.estimate or 0.0 for j in scored)
    wall = statistics.median(j.wall for j in scored)
    bias = statistics.mean((j.estimate or 0.0) - j.wall for j in scored)
    return (
        f"| {group.name} | {len(scored)} of {len(group.jobs)} | {est:.1f} / {wall:.2f} | "
        f"{bias:+.2f} | **{mape:.0%}** |"
    )


def estimate_lines(groups: list[Group]) -> list[str]:
    return [
        "| jobs | scored | median estimate / wall (s) | mean error (s) | MAPE |",
        "|---|---|---|---|---|",
        *(group_line(g) for g in groups),
        "",
        f"Scored: jobs posted after their server had finished {WARM} jobs; wall is POST → the "
        "client seeing `completed`. Mean error > 0 means the estimate was too long.",
    ]


def overall_mape(groups: list[Group]) -> float | None:
    scored = [j for g in groups for j in g.scored()]
    return statistics.mean(ape(j) for j in scored) if scored else None
