"""How far is the 202's `estimated_duration` from the job's real wall time?

It renders nothing itself: it scores every service job the measures before it in the same
run submitted (overhead's solo renders, concurrency's renders at once, memory's small jobs
when memory ran), so it needs overhead and concurrency.

Wall time is the client's: just before the POST to the moment it learnt the job had
completed, which is what an estimate promises a caller. The model learns from finished
jobs, so a job is scored only when its server had already finished WARM jobs when it was
posted ("after the model has a few samples"); earlier ones are listed but not scored.
"""

from __future__ import annotations

import statistics

from bench.harness.api import Group, Submitted
from bench.harness.measure import Context, Measure, Options, Section

#: The model's first finished job at a resolution replaces its default speed outright, so
#: one sample is a calibrated model for the same kind of job.
WARM = 1


def scored(group: Group) -> list[Submitted]:
    """The group's jobs posted after their server had finished WARM jobs."""
    done = [j.done_at for j in group.history if j.done_at is not None]
    return [
        j
        for j in group.jobs
        if j.estimate is not None
        and j.done is not None
        and sum(1 for at in done if at < j.posted_at) >= WARM
    ]


def ape(job: Submitted) -> float:
    """Absolute percentage error of one job's estimate (0.25: 25 % off)."""
    assert job.estimate is not None
    return abs(job.estimate - job.wall) / job.wall


def group_line(group: Group) -> str:
    jobs = scored(group)
    if not jobs:
        return f"| {group.name} | 0 of {len(group.jobs)} | – | – | – |"
    mape = statistics.mean(ape(j) for j in jobs)
    est = statistics.median(j.estimate or 0.0 for j in jobs)
    wall = statistics.median(j.wall for j in jobs)
    bias = statistics.mean((j.estimate or 0.0) - j.wall for j in jobs)
    return (
        f"| {group.name} | {len(jobs)} of {len(group.jobs)} | {est:.1f} / {wall:.2f} | "
        f"{bias:+.2f} | **{mape:.0%}** |"
    )


def overall_mape(groups: list[Group]) -> float | None:
    jobs = [j for g in groups for j in scored(g)]
    return statistics.mean(ape(j) for j in jobs) if jobs else None


def run(ctx: Context, opts: Options) -> list[Section]:
    groups = ctx.groups
    mape = overall_mape(groups)
    count = sum(len(scored(g)) for g in groups)
    shown = "no job scored" if mape is None else f"MAPE **{mape:.0%}** over {count} jobs"
    lines = [
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| estimator: `estimated_duration` vs real wall | {shown} | reported | – |",
        "",
        "| jobs | scored | median estimate / wall (s) | mean error (s) | MAPE |",
        "|---|---|---|---|---|",
        *(group_line(g) for g in groups),
        "",
        f"Scored: jobs posted after their server had finished {WARM} jobs; wall is POST → the "
        "client seeing `completed`. Mean error > 0 means the estimate was too long.",
    ]
    return [Section("estimator", MEASURE.question, lines)]


MEASURE = Measure(
    name="estimator",
    question="how far is the `estimated_duration` of a 202 from the real wall time?",
    takes="no time of its own: it scores the jobs of overhead, concurrency and memory",
    quick_note="scores the quick runs of overhead and concurrency",
    run=run,
    defaults={},
    needs=("overhead", "concurrency"),
)
