"""Estimator: throughput per resolution fitted from finished jobs, the queue ahead, compare()."""

from __future__ import annotations

import dataclasses
import math
from datetime import timedelta
from typing import Any

import pytest

from tests.support.jobs import make_job
from vidsvc import spec
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.estimate import DEFAULT_SPEED, Estimator, compare, output_seconds


def payload(seconds: float = 10.0, resolution: str = "720p") -> dict[str, Any]:
    clips = [{"url": "s3://b/a.mp4", "trim_start": 1, "trim_end": 1 + seconds}]
    return {"clips": clips, "output": {"resolution": resolution}}


def request(seconds: float = 10.0, resolution: str = "720p") -> spec.Composition:
    return parse_composition(payload(seconds, resolution))


def finished(
    *,
    output_s: float,
    processing_s: float,
    resolution: str = "720p",
    state: JobState = JobState.COMPLETED,
    render_s: float | None = None,
    kind: JobKind = JobKind.COMPOSITION,
    overhead_s: float = 0.0,
    sharing: float | None = None,
) -> Job:
    metadata: dict[str, Any] = {
        # the stage clocks: the queue is not processing
        "timings": {
            "queued": 30.0,
            "downloading": overhead_s,
            "encoding": processing_s - overhead_s,
        },
        "render_seconds": render_s if render_s is not None else processing_s - overhead_s,
        "output_seconds": output_s,
    }
    if sharing is not None:
        metadata["sharing"] = sharing
    job = make_job(kind=kind, state=state, payload=payload(output_s, resolution))
    return dataclasses.replace(job, metadata=metadata)


def test_output_seconds_from_trims_placements_or_a_guess() -> None:
    clips = (
        spec.Clip(url="s3://b/a.mp4", trim_start_ms=2000, trim_end_ms=5000),
        spec.Clip(url="s3://b/a.mp4", start_ms=1000, end_ms=5000),
        spec.Clip(url="s3://b/a.mp4"),
    )
    assert output_seconds(spec.Composition(clips=clips)) == 3 + 4 + 5


def test_default_before_the_first_sample() -> None:
    est = Estimator()
    assert est.estimate(request(10)) == round(10 / DEFAULT_SPEED, 1)
    # smaller outputs render faster, by the square root of the pixel ratio
    assert est.speed("360p") == pytest.approx(DEFAULT_SPEED * 2)
    assert est.estimate(request(0.1)) == 1.0  # never promises less than a second


def test_fitted_per_resolution_from_processing_time() -> None:
    est = Estimator()
    est.observe(finished(output_s=12.0, processing_s=4.0, resolution="360p"))
    assert est.speed("360p") == pytest.approx(3.0)  # the queued 30 s are not processing
    assert est.estimate(request(6, "360p")) == 2.0
    # 720p has no sample yet: derived from the nearest fitted resolution, not the default
    assert est.speed("720p") == pytest.approx(3.0 / 2)
    est.observe(finished(output_s=10.0, processing_s=10.0, resolution="720p"))
    assert est.speed("720p") == pytest.approx(1.0)
    assert est.speed("360p") == pytest.approx(3.0)  # each resolution keeps its own


def test_samples_are_smoothed_not_replaced() -> None:
    est = Estimator()
    est.observe(finished(output_s=10.0, processing_s=5.0))  # 2.0x
    est.observe(finished(output_s=10.0, processing_s=10.0))  # 1.0x
    assert 1.0 < est.speed("720p") < 2.0


@pytest.mark.parametrize(
    "job",
    [
        finished(output_s=10, processing_s=5, state=JobState.FAILED),
        finished(output_s=10, processing_s=5, render_s=0.0),  # a render-cache hit
        finished(output_s=10, processing_s=5, kind=JobKind.CLIPS),
        finished(output_s=0, processing_s=5),
    ],
    ids=["failed", "cache-hit", "clips", "no-output"],
)
def test_what_is_not_a_sample(job: Job) -> None:
    est = Estimator()
    est.observe(job)
    assert est.speeds == {} and est.job_seconds is None


def test_the_queue_ahead_and_the_free_slots() -> None:
    est = Estimator()
    est.observe(finished(output_s=20.0, processing_s=10.0))  # 2x, typical job 10 s
    own = 10 / 2.0
    doc = request(10)
    assert est.estimate(doc, ahead=0, running=0, slots=2) == own
    # a slot is still free, but the job ahead will share the machine with ours
    assert est.estimate(doc, ahead=1, running=0, slots=2) == 2 * own
    # both slots will be taken: one job must finish; the pool does 2 per 10 s
    assert est.estimate(doc, ahead=0, running=2, slots=2) == 2 * own + 10 / 2
    assert est.estimate(doc, ahead=3, running=2, slots=2) == 2 * own + 4 * 10 / 2
    series = [est.estimate(doc, ahead=n, running=2, slots=2) for n in range(6)]
    assert series == sorted(series) and len(set(series)) == 6


def test_compare_estimate_with_what_happened() -> None:
    job = finished(output_s=10, processing_s=5)
    done = dataclasses.replace(job, finished_at=job.created_at + timedelta(seconds=8))
    assert compare(10.0, done) == {
        "estimated_s": 10.0,
        "actual_s": 8.0,
        "error_s": 2.0,
        "ratio": 1.25,
    }
    assert compare(10.0, dataclasses.replace(done, state=JobState.FAILED)) is None
    instant = dataclasses.replace(done, finished_at=done.created_at)
    assert compare(1.0, instant)["ratio"] == math.inf  # type: ignore[index]


def test_throughput_counts_the_renders_that_shared_the_machine() -> None:
    """A job that encoded at 0.5x while four renders shared the cores measured 2x of machine
    throughput: alone, the next job is promised 2x; beside three others, a quarter of it."""
    est = Estimator()
    est.observe(finished(output_s=10.0, processing_s=20.0, sharing=4.0))
    assert est.speed("720p") == pytest.approx(2.0)
    assert est.estimate(request(10), slots=4) == 5.0
    assert est.estimate(request(10), running=3, slots=4) == 20.0
    # past the slots a job waits instead of sharing more
    assert est.render_seconds(request(10), sharing=4) == pytest.approx(20.0)


def test_the_fixed_overhead_is_learned_apart_from_the_encode() -> None:
    """Probing, compiling and storing cost about the same for a 1 s and a 60 s output: they
    are added once, not scaled with the length (short jobs were promised too little)."""
    est = Estimator()
    est.observe(finished(output_s=10.0, processing_s=6.0, overhead_s=1.0))  # encode 5 s: 2x
    assert est.speed("720p") == pytest.approx(2.0)
    assert est.overhead == pytest.approx(1.0)
    assert est.estimate(request(1)) == 1.5
    assert est.estimate(request(60)) == 31.0


async def test_the_runner_counts_the_queue_after_the_insert() -> None:
    """Runner.estimate_seconds counts queued jobs after the job's own insert, so requests
    submitted together see each other: three queued at once on three slots each get a third
    of the machine (counted before the insert, a burst was promised solo renders)."""
    from vidsvc.config import Settings
    from vidsvc.runner.service import Runner
    from vidsvc.store import Stores
    from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
    from vidsvc.store.memory import MemoryBlobStore, MemoryJobStore
    from vidsvc.work.kinds import handlers

    stores = Stores(jobs=MemoryJobStore(), blobs=MemoryBlobStore(),
                    pubsub=MemoryPubSub(), backlog=MemoryBacklog())  # fmt: skip
    runner = Runner(Settings(max_concurrent_jobs=3), stores, handlers())
    jobs = [make_job(payload=payload(10)) for _ in range(3)]
    solo = round(10 / DEFAULT_SPEED, 1)
    await stores.jobs.create(jobs[0])
    assert await runner.estimate_seconds(jobs[0]) == solo
    for job in jobs[1:]:
        await stores.jobs.create(job)
    assert await runner.estimate_seconds(jobs[2]) == round(3 * 10 / DEFAULT_SPEED, 1)
