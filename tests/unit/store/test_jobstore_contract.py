"""The JobStore contract (store/base.py), run against every implementation in conftest."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.jobs import T0, make_job
from tests.support.store_backends import JobBackend
from vidsvc.jobs import Job, JobError, JobKind, JobState, Lease, Progress, utcnow
from vidsvc.store import rules
from vidsvc.store.base import JobStore

LATER = timedelta(hours=1)


async def claimed(jobs: JobStore, n: int = 0, **changes: object) -> Job:
    job = await jobs.create(make_job(n, **changes))
    got = await jobs.claim(job.id, owner="worker-a", lease_s=30)
    assert got is not None
    return got


def token(job: Job) -> str:
    assert job.lease is not None
    return job.lease.token


# --- create / get -----------------------------------------------------------------------------


async def test_create_then_get_round_trips_every_field(jobs: JobStore) -> None:
    plus2 = timezone(timedelta(hours=2))
    job = make_job(
        user_id="user-1",
        attempts=1,
        max_attempts=5,
        progress=Progress(stage="encoding", percentage=42.5, message="ünïcödé ✓"),
        progress_seq=7,
        error=JobError(code="X", message="m", details={"k": [1, 2]}),
        output_key="outputs/x/y.mp4",
        thumbnail_key="outputs/x/y.jpg",
        lease=Lease(owner="o", token="t", expires_at=T0.astimezone(plus2)),
        state=JobState.PROCESSING,
        cancel_requested=True,
        started_at=T0.astimezone(plus2),
        finished_at=None,
        metadata={"timings": {"encode": 1.5}},
    )
    created = await jobs.create(job)
    got = await jobs.get(job.id)
    assert created == got == job
    assert got is not None and got.lease is not None and got.started_at is not None
    for stamp in (got.created_at, got.updated_at, got.started_at, got.lease.expires_at):
        assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
    assert got.created_at.microsecond == 123456


async def test_duplicate_id_is_refused_and_changes_nothing(jobs: JobStore) -> None:
    job = await jobs.create(make_job())
    with pytest.raises(ValueError):
        await jobs.create(make_job(5, id=job.id, payload={"other": True}))
    assert await jobs.get(job.id) == job


async def test_get_unknown_is_none(jobs: JobStore) -> None:
    assert await jobs.get("comp_missing") is None


async def test_naive_datetimes_are_refused(jobs: JobStore) -> None:
    with pytest.raises(ValueError):
        await jobs.create(make_job(created_at=datetime(2026, 1, 1)))


async def test_payload_is_a_copy(jobs: JobStore) -> None:
    payload = {"clips": [1, 2]}
    job = await jobs.create(make_job(payload=payload))
    payload["clips"].append(3)
    got = await jobs.get(job.id)
    assert got is not None and got.payload == {"clips": [1, 2]}


# --- list / count / queued_ids ----------------------------------------------------------------


async def test_list_is_newest_first_with_filters_and_cursor(jobs: JobStore) -> None:
    made = [await jobs.create(make_job(n)) for n in range(7)]
    # Same created_at as made[6]: the id breaks the tie, and no hex id sorts above this one.
    twin = await jobs.create(make_job(6, id="comp_" + "f" * 24))
    await jobs.create(make_job(9, kind=JobKind.CLIPS, id="proc_1"))
    await jobs.claim(made[2].id, owner="w", lease_s=30)
    expected = [twin.id, *[j.id for j in reversed(made)]]

    assert [j.id for j in await jobs.list(limit=100)] == expected
    pages, before = [], None
    while page := await jobs.list(limit=3, before=before):
        pages.append([j.id for j in page])
        before = page[-1].id
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [i for page in pages for i in page] == expected

    queued = await jobs.list(state=JobState.QUEUED, limit=100)
    assert [j.id for j in queued] == [i for i in expected if i != made[2].id]
    assert [j.id for j in await jobs.list(kind=JobKind.CLIPS)] == ["proc_1"]
    assert await jobs.list(before="comp_unknown") == []
    assert await jobs.list(limit=0) == []


async def test_count_by_state_and_kind(jobs: JobStore) -> None:
    for n in range(3):
        await jobs.create(make_job(n))
    await jobs.create(make_job(3, kind=JobKind.CLIPS))
    await claimed(jobs, 4)
    assert await jobs.count(JobState.QUEUED) == 4
    assert await jobs.count(JobState.QUEUED, kind=JobKind.COMPOSITION) == 3
    assert await jobs.count(JobState.QUEUED, kind=JobKind.CLIPS) == 1
    assert await jobs.count(JobState.PROCESSING) == 1
    assert await jobs.count(JobState.FAILED) == 0


async def test_queued_ids_oldest_first(jobs: JobStore) -> None:
    late = await jobs.create(make_job(10))
    early = await jobs.create(make_job(1, kind=JobKind.CLIPS))
    busy = await claimed(jobs, 0)
    assert await jobs.queued_ids() == [early.id, late.id]
    assert await jobs.queued_ids(limit=1) == [early.id]
    assert busy.id not in await jobs.queued_ids()


# --- claims -----------------------------------------------------------------------------------


async def test_claim_takes_a_queued_job_once(jobs: JobStore) -> None:
    job = await jobs.create(make_job())
    before = utcnow()
    got = await jobs.claim(job.id, owner="worker-a", lease_s=30)
    assert got is not None and got.lease is not None
    assert got.state is JobState.PROCESSING and got.attempts == 1
    assert got.progress_seq == job.progress_seq + 1
    assert got.lease.owner == "worker-a" and len(got.lease.token) >= 16
    assert timedelta(seconds=29) < got.lease.expires_at - before < timedelta(seconds=31)
    assert got.started_at is not None and got.started_at >= before
    assert await jobs.get(job.id) == got
    assert await jobs.claim(job.id, owner="worker-b", lease_s=30) is None
    assert await jobs.claim("comp_unknown", owner="worker-b", lease_s=30) is None


async def test_claim_next_takes_the_oldest_of_any_kind(jobs: JobStore) -> None:
    assert await jobs.claim_next(owner="w", lease_s=30) is None
    second = await jobs.create(make_job(2))
    first = await jobs.create(make_job(1, kind=JobKind.CLIPS))
    got = [await jobs.claim_next(owner="w", lease_s=30) for _ in range(3)]
    assert [j and j.id for j in got] == [first.id, second.id, None]
    assert all(j is None or j.state is JobState.PROCESSING for j in got)


async def test_twenty_concurrent_claimers_one_winner(job_backend: JobBackend) -> None:
    job = await job_backend.store.create(make_job())
    handles = [job_backend.store, *[await job_backend.another() for _ in range(3)]]
    results = await asyncio.gather(
        *(handles[i % 4].claim(job.id, owner=f"w{i}", lease_s=30) for i in range(20))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].attempts == 1
    assert await job_backend.store.get(job.id) == winners[0]


async def test_concurrent_claim_next_hands_each_job_out_once(job_backend: JobBackend) -> None:
    made = {(await job_backend.store.create(make_job(n))).id for n in range(5)}
    handles = [job_backend.store, *[await job_backend.another() for _ in range(3)]]
    results = await asyncio.gather(
        *(handles[i % 4].claim_next(owner=f"w{i}", lease_s=30) for i in range(20))
    )
    ids = [r.id for r in results if r is not None]
    assert sorted(ids) == sorted(made)


async def test_each_claim_counts_an_attempt_with_a_new_token(jobs: JobStore) -> None:
    first = await claimed(jobs)
    later = first.lease.expires_at + timedelta(seconds=1) if first.lease else utcnow()
    assert [j.id for j in await jobs.reap_expired(later)] == [first.id]  # its worker died
    second = await jobs.claim(first.id, owner="worker-b", lease_s=30)
    assert second is not None and second.attempts == 2
    assert token(second) != token(first)
    assert second.started_at == first.started_at  # set once, by the first claim


# --- fencing ----------------------------------------------------------------------------------


async def test_renew_extends_only_under_the_current_token(jobs: JobStore) -> None:
    job = await claimed(jobs)
    assert job.lease is not None
    assert await jobs.renew(job.id, token(job), 600)
    renewed = await jobs.get(job.id)
    assert renewed is not None and renewed.lease is not None
    assert renewed.lease.expires_at > job.lease.expires_at + timedelta(seconds=500)
    assert not await jobs.renew(job.id, "stale", 900)
    assert await jobs.get(job.id) == renewed
    assert not await jobs.renew("comp_unknown", token(job), 900)


async def test_record_progress_is_fenced_monotonic_and_sequenced(jobs: JobStore) -> None:
    job = await claimed(jobs)
    seqs = [job.progress_seq]
    for stage, pct in (("downloading", 10.0), ("encoding", 50), ("encoding", 30.0)):
        got = await jobs.record_progress(job.id, token(job), Progress(stage=stage, percentage=pct))
        assert got is not None
        seqs.append(got.progress_seq)
    assert got is not None and got.progress == Progress(stage="encoding", percentage=50.0)
    assert isinstance(got.progress.percentage, float)
    assert seqs == sorted(set(seqs))  # strictly increasing
    over = await jobs.record_progress(job.id, token(job), Progress(stage="x", percentage=250))
    assert over is not None and over.progress.percentage == 100.0
    assert await jobs.record_progress(job.id, "stale", Progress(percentage=99)) is None
    assert await jobs.get(job.id) == over


async def test_progress_eta_and_speed_round_trip_while_processing_only(jobs: JobStore) -> None:
    job = await claimed(jobs)
    sent = Progress(stage="encoding", percentage=40.0, message="m", eta_seconds=12.5, speed=1.75)
    got = await jobs.record_progress(job.id, token(job), sent)
    assert got is not None and got.progress == sent
    assert (await jobs.get(job.id)) == got
    unknown = Progress(stage="encoding", percentage=41.0, message="m")  # FFmpeg said N/A
    got = await jobs.record_progress(job.id, token(job), unknown)
    assert got is not None and (got.progress.eta_seconds, got.progress.speed) == (None, None)
    await jobs.record_progress(job.id, token(job), sent)
    requeued = await jobs.requeue(job.id, token(job))
    assert requeued is not None and requeued.progress.eta_seconds is None
    again = await jobs.claim(job.id, owner="w2", lease_s=900)
    assert again is not None
    await jobs.record_progress(job.id, token(again), sent)
    done = await jobs.finish(job.id, token(again), JobState.COMPLETED, output_key="o/e.mp4")
    assert done is not None and (done.progress.eta_seconds, done.progress.speed) == (None, None)
    assert (await jobs.get(job.id)) == done


async def test_finish_completed_sets_output_and_merges_metadata(jobs: JobStore) -> None:
    job = await claimed(jobs, metadata={"keep": 1, "timings": {"probe": 0.1}})
    meta = {"timings": {"encode": 2.0}, "command": ["ffmpeg", "-i"]}
    done = await jobs.finish(
        job.id, token(job), JobState.COMPLETED, output_key="o/x.mp4", thumbnail_key="o/x.jpg",
        metadata=meta,
    )  # fmt: skip
    assert done is not None and done.state is JobState.COMPLETED
    assert done.lease is None and done.finished_at is not None and done.error is None
    assert done.progress.stage == "completed" and done.progress.percentage == 100.0
    assert done.progress_seq == job.progress_seq + 1
    assert (done.output_key, done.thumbnail_key) == ("o/x.mp4", "o/x.jpg")
    assert done.metadata == {"keep": 1, **meta}  # shallow: "timings" replaced whole
    assert await jobs.get(job.id) == done
    assert await jobs.finish(job.id, token(job), JobState.FAILED) is None  # already terminal


async def test_finish_failed_keeps_percentage_and_stores_error(jobs: JobStore) -> None:
    job = await claimed(jobs)
    await jobs.record_progress(job.id, token(job), Progress(stage="encoding", percentage=40))
    error = JobError(code="PROCESSING_FAILED", message="ffmpeg exit 1", details={"tail": ["x"]})
    done = await jobs.finish(job.id, token(job), JobState.FAILED, error=error)
    assert done is not None and done.error == error
    assert done.progress == Progress(stage="failed", percentage=40.0, message="failed")


async def test_stale_token_writes_change_nothing(jobs: JobStore) -> None:
    job = await claimed(jobs)
    before = await jobs.get(job.id)
    assert await jobs.finish(job.id, "stale", JobState.COMPLETED, output_key="o/z.mp4") is None
    assert await jobs.finish(job.id, "stale", JobState.COMPLETED, metadata={"z": 1}) is None
    assert await jobs.requeue(job.id, "stale") is None
    assert await jobs.get(job.id) == before


async def test_finish_needs_a_terminal_state(jobs: JobStore) -> None:
    job = await claimed(jobs)
    with pytest.raises(ValueError):
        await jobs.finish(job.id, token(job), JobState.QUEUED)


async def test_requeue_hands_the_job_back_and_gives_the_attempt_back(jobs: JobStore) -> None:
    job = await claimed(jobs)
    await jobs.record_progress(job.id, token(job), Progress(stage="encoding", percentage=60))
    back = await jobs.requeue(job.id, token(job))
    assert back is not None and back.state is JobState.QUEUED
    # a stop by our own choice (shutdown) is not the job's fault: the attempt does not count
    assert back.lease is None and back.attempts == 0 and back.progress == Progress()
    assert back.progress_seq == job.progress_seq + 2
    assert await jobs.queued_ids() == [job.id]
    assert await jobs.record_progress(job.id, token(job), Progress(percentage=1)) is None


# --- cancel -----------------------------------------------------------------------------------


async def test_cancel_queued_is_immediate_and_final(jobs: JobStore) -> None:
    job = await jobs.create(make_job())
    got = await jobs.cancel(job.id)
    assert got is not None and got.state is JobState.CANCELLED
    assert got.finished_at is not None and got.progress.stage == "cancelled"
    assert got.progress_seq == job.progress_seq + 1
    assert await jobs.claim(job.id, owner="w", lease_s=30) is None
    assert await jobs.claim_next(owner="w", lease_s=30) is None


async def test_cancel_processing_only_flags_it(jobs: JobStore) -> None:
    job = await claimed(jobs)
    flagged = await jobs.cancel(job.id)
    assert flagged is not None and flagged.cancel_requested
    assert flagged.state is JobState.PROCESSING and flagged.progress_seq == job.progress_seq
    done = await jobs.finish(job.id, token(job), JobState.CANCELLED)
    assert done is not None and done.state is JobState.CANCELLED


async def test_cancel_terminal_or_unknown(jobs: JobStore) -> None:
    job = await claimed(jobs)
    done = await jobs.finish(job.id, token(job), JobState.COMPLETED, output_key="o/a.mp4")
    assert await jobs.cancel(job.id) == done
    assert await jobs.cancel("comp_unknown") is None


async def test_requeue_after_cancel_request_ends_cancelled(jobs: JobStore) -> None:
    job = await claimed(jobs)
    await jobs.cancel(job.id)
    got = await jobs.requeue(job.id, token(job))
    assert got is not None and got.state is JobState.CANCELLED and got.finished_at is not None


# --- reaper -----------------------------------------------------------------------------------


async def test_reap_expired_requeues_then_fails_at_max_attempts(jobs: JobStore) -> None:
    job = await claimed(jobs, max_attempts=2)
    assert await jobs.reap_expired(utcnow()) == []  # lease still valid
    (back,) = await jobs.reap_expired(utcnow() + LATER)
    assert back.id == job.id and back.state is JobState.QUEUED and back.lease is None
    assert back.progress_seq == job.progress_seq + 1 and back.error is None
    assert await jobs.finish(job.id, token(job), JobState.COMPLETED) is None  # the zombie

    again = await jobs.claim(job.id, owner="w2", lease_s=30)
    assert again is not None and again.attempts == 2
    (failed,) = await jobs.reap_expired(utcnow() + LATER)
    assert failed.state is JobState.FAILED and failed.finished_at is not None
    assert failed.error == rules.lease_lost_error(2, 2)
    assert failed.progress.stage == "failed"
    assert await jobs.reap_expired(utcnow() + LATER) == []


async def test_reap_expired_cancels_a_job_whose_cancel_was_requested(jobs: JobStore) -> None:
    job = await claimed(jobs)
    await jobs.cancel(job.id)
    (got,) = await jobs.reap_expired(utcnow() + LATER)
    assert got.state is JobState.CANCELLED and got.error is None


async def test_reap_expired_returns_only_expired_jobs(jobs: JobStore) -> None:
    short = await jobs.create(make_job(0))
    long = await jobs.create(make_job(1))
    await jobs.claim(short.id, owner="w", lease_s=1)
    await jobs.claim(long.id, owner="w", lease_s=600)
    got = await jobs.reap_expired(utcnow() + timedelta(seconds=60))
    assert [j.id for j in got] == [short.id]


# --- metrics, ping, times ---------------------------------------------------------------------


async def test_record_metrics(jobs: JobStore) -> None:
    job = await jobs.create(make_job(kind=JobKind.CLIPS))
    await jobs.record_metrics(job.id, {"duration_seconds": 2, "ffmpeg_stats": {"speed": 1.5}})
    await jobs.record_metrics(job.id, {"job_type": "composition", "cpu_time": 1.25})
    await jobs.record_metrics("comp_unknown", {"duration_seconds": 1})  # dropped, no error
    with pytest.raises(ValueError):
        await jobs.record_metrics(job.id, {"duration_secs": 1})
    rows = await jobs.metrics(job.id)  # type: ignore[attr-defined]
    assert [(r["job_type"], r["duration_seconds"], r["cpu_time"]) for r in rows] == [
        ("clips", 2.0, None),
        ("composition", None, 1.25),
    ]
    assert rows[0]["ffmpeg_stats"] == {"speed": 1.5} and rows[1]["ffmpeg_stats"] == {}


async def test_ping(jobs: JobStore) -> None:
    await jobs.ping()


async def test_times_stay_aware_utc_through_transitions(jobs: JobStore) -> None:
    job = await claimed(jobs)
    done = await jobs.finish(job.id, token(job), JobState.COMPLETED)
    assert done is not None and done.finished_at is not None and done.started_at is not None
    for stamp in (done.created_at, done.updated_at, done.started_at, done.finished_at):
        assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
    assert done.created_at == T0 and done.finished_at >= done.started_at


# --- annotate / delete_user -------------------------------------------------------------------


async def test_annotate_merges_shallowly_in_any_state_without_a_transition(jobs: JobStore) -> None:
    job = await claimed(jobs, metadata={"timings": {"a": 1}, "keep": True})
    done = await jobs.finish(job.id, token(job), JobState.COMPLETED)
    assert done is not None
    noted = await jobs.annotate(job.id, {"callback": {"attempts": [1]}, "timings": {"b": 2}})
    assert noted is not None
    assert noted.metadata == {"timings": {"b": 2}, "keep": True, "callback": {"attempts": [1]}}
    assert (noted.state, noted.progress_seq, noted.progress) == (
        JobState.COMPLETED,
        done.progress_seq,
        done.progress,
    )
    assert await jobs.get(job.id) == noted
    queued = await jobs.create(make_job(1))
    again = await jobs.annotate(queued.id, {"x": 1})
    assert again is not None and again.metadata["x"] == 1 and again.state is JobState.QUEUED


async def test_annotate_unknown_is_none(jobs: JobStore) -> None:
    assert await jobs.annotate("comp_missing", {"x": 1}) is None


async def test_delete_user_removes_queued_and_terminal_jobs_but_not_running_ones(
    jobs: JobStore,
) -> None:
    queued = await jobs.create(make_job(0, user_id="u1"))
    running = await claimed(jobs, 1, user_id="u1")
    done = await claimed(jobs, 2, user_id="u1")
    await jobs.finish(done.id, token(done), JobState.FAILED, output_key="outputs/x/1.mp4")
    other = await jobs.create(make_job(3, user_id="u2"))
    clip = await jobs.create(make_job(4, user_id="u1", kind=JobKind.CLIPS))
    gone = await jobs.delete_user("u1")
    assert {j.id for j in gone} == {queued.id, done.id, clip.id}
    assert next(j for j in gone if j.id == done.id).output_key == "outputs/x/1.mp4"
    for job in gone:
        assert await jobs.get(job.id) is None
    assert await jobs.get(running.id) is not None
    assert await jobs.get(other.id) is not None
    assert await jobs.delete_user("nobody") == []


# --- render cache: finish(cache_key=…) and find_cached ----------------------------------------


async def completed_with(jobs: JobStore, n: int, key: str | None) -> Job:
    job = await claimed(jobs, n)
    done = await jobs.finish(
        job.id,
        token(job),
        JobState.COMPLETED,
        output_key=f"outputs/{job.id}/v.mp4",
        thumbnail_key=f"outputs/{job.id}/t.jpg",
        cache_key=key,
    )
    assert done is not None
    return done


async def test_find_cached_answers_the_newest_completed_job_with_the_key(jobs: JobStore) -> None:
    assert await jobs.find_cached("k1") is None
    first = await completed_with(jobs, 0, "k1")
    got = await jobs.find_cached("k1")
    assert got == first and got.output_key == f"outputs/{first.id}/v.mp4"
    await completed_with(jobs, 1, "k2")
    await completed_with(jobs, 2, None)
    newest = await completed_with(jobs, 3, "k1")  # finished later: the newest
    assert await jobs.find_cached("k1") == newest
    assert await jobs.find_cached("k3") is None


async def test_find_cached_ignores_jobs_that_did_not_complete(jobs: JobStore) -> None:
    failed = await claimed(jobs, 0)
    error = JobError(code="PROCESSING_FAILED", message="m")
    await jobs.finish(failed.id, token(failed), JobState.FAILED, error=error, cache_key="k")
    cancelled = await claimed(jobs, 1)
    await jobs.finish(cancelled.id, token(cancelled), JobState.CANCELLED, cache_key="k")
    no_output = await claimed(jobs, 2)
    await jobs.finish(no_output.id, token(no_output), JobState.COMPLETED, cache_key="k")
    await claimed(jobs, 3)  # processing
    assert await jobs.find_cached("k") is None


async def test_a_stale_finish_records_no_cache_key(jobs: JobStore) -> None:
    job = await claimed(jobs)
    refused = await jobs.finish(job.id, "stale", JobState.COMPLETED, cache_key="k")
    assert refused is None
    assert await jobs.find_cached("k") is None


async def test_find_cached_forgets_deleted_jobs(jobs: JobStore) -> None:
    job = await claimed(jobs, 0, user_id="u1")
    await jobs.finish(
        job.id, token(job), JobState.COMPLETED, output_key="o/v.mp4", thumbnail_key="o/t.jpg",
        cache_key="k",
    )  # fmt: skip
    assert (found := await jobs.find_cached("k")) is not None and found.id == job.id
    await jobs.delete_user("u1")
    assert await jobs.find_cached("k") is None


async def test_the_cache_key_survives_a_second_handle(job_backend: JobBackend) -> None:
    """Another instance (a second connection or pool) finds what this one finished."""
    done = await completed_with(job_backend.store, 0, "shared")
    other = await job_backend.another()
    assert await other.find_cached("shared") == done
