"""The JobStore's webhook-event contract (store/base.py, store/callback_events.py), run against
every implementation in conftest: stored with the job, due once the job is terminal, claimed
with a lease by one claimer, every write fenced by the claim's token."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.jobs import make_job
from tests.support.store_backends import JobBackend
from vidsvc.jobs import Job, JobState, utcnow
from vidsvc.store.base import JobStore
from vidsvc.store.callback_events import CallbackEvent, EventState

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
LATER = timedelta(hours=1)


async def with_event(jobs: JobStore, n: int = 0, **changes: object) -> tuple[Job, CallbackEvent]:
    job = make_job(n, **changes)
    event = CallbackEvent.armed(job_id=job.id, url="https://hooks.example/x", origin="https://v")
    await jobs.create(job, callback=event)
    return job, event


async def ended(jobs: JobStore, job: Job, state: JobState = JobState.COMPLETED) -> Job:
    claimed = await jobs.claim(job.id, owner="worker", lease_s=30)
    assert claimed is not None and claimed.lease is not None
    done = await jobs.finish(job.id, claimed.lease.token, state)
    assert done is not None
    return done


async def claim(jobs: JobStore, owner: str = "a", now: datetime | None = None) -> CallbackEvent:
    got = await jobs.claim_callback(owner=owner, lease_s=60, now=now or utcnow())
    assert got is not None
    return got


async def test_an_event_is_stored_with_its_job(jobs: JobStore) -> None:
    job, event = await with_event(jobs)
    got = await jobs.callback_event(job.id)
    assert got == event
    assert got.state is EventState.PENDING and got.attempts == 0 and got.lease is None
    assert got.next_at.utcoffset() == timedelta(0) and got.notes == ()
    plain = await jobs.create(make_job(1))
    assert await jobs.callback_event(plain.id) is None


async def test_a_refused_job_stores_no_event(jobs: JobStore) -> None:
    job, event = await with_event(jobs)
    again = CallbackEvent.armed(job_id=job.id, url="https://other.example/", origin="")
    with pytest.raises(ValueError):
        await jobs.create(job, callback=again)
    assert await jobs.callback_event(job.id) == event  # the first one, untouched


async def test_due_only_once_the_job_is_terminal(jobs: JobStore) -> None:
    job, event = await with_event(jobs)
    assert await jobs.claim_callback(owner="a", lease_s=60, now=utcnow()) is None  # queued
    claimed = await jobs.claim(job.id, owner="worker", lease_s=30)
    assert claimed is not None and claimed.lease is not None
    assert await jobs.claim_callback(owner="a", lease_s=60, now=utcnow()) is None  # processing
    await jobs.finish(job.id, claimed.lease.token, JobState.FAILED)
    got = await claim(jobs)
    assert got.id == event.id and got.lease is not None and got.lease.owner == "a"
    assert got.token and got.attempts == 0
    assert await jobs.claim_callback(owner="b", lease_s=60, now=utcnow()) is None  # leased


@pytest.mark.parametrize("end", ["cancel", "reaper"])
async def test_every_way_a_job_ends_makes_its_event_due(jobs: JobStore, end: str) -> None:
    """A queued job's cancel and the reaper's last failure end jobs outside any worker."""
    job, event = await with_event(jobs, max_attempts=1)
    if end == "cancel":
        await jobs.cancel(job.id)
    else:
        await jobs.claim(job.id, owner="dead", lease_s=1)
        [reaped] = await jobs.reap_expired(utcnow() + LATER)
        assert reaped.state is JobState.FAILED
    assert (await claim(jobs)).id == event.id


async def test_an_attempt_is_recorded_fenced_and_retried_later(jobs: JobStore) -> None:
    job, event = await with_event(jobs)
    await ended(jobs, job)
    got = await claim(jobs)
    retry_at = utcnow() + timedelta(seconds=30)
    note = {"at": "2026-01-01T00:00:00Z", "status": 500, "duration_ms": 12, "ü": "✓"}
    refused = await jobs.record_callback(
        event.id, "not-the-token", note=note, state=EventState.PENDING, next_at=retry_at
    )
    assert refused is None
    kept = await jobs.record_callback(
        event.id, got.token, note=note, state=EventState.PENDING, next_at=retry_at
    )
    assert kept is not None and kept.attempts == 1 and kept.notes == (note,)
    assert kept.lease is None and kept.state is EventState.PENDING and kept.finished_at is None
    assert await jobs.claim_callback(owner="a", lease_s=60, now=utcnow()) is None  # backoff
    again = await claim(jobs, "b", now=retry_at + timedelta(seconds=1))
    assert again.id == event.id and again.token != got.token
    stale = await jobs.record_callback(
        event.id, got.token, note=note, state=EventState.DELIVERED, next_at=utcnow()
    )
    assert stale is None  # the first claim's token was spent


async def test_a_final_state_is_never_claimed_again(jobs: JobStore) -> None:
    job, event = await with_event(jobs)
    await ended(jobs, job)
    got = await claim(jobs)
    ok = {"at": "t", "status": 204, "duration_ms": 3}
    done = await jobs.record_callback(
        event.id, got.token, note=ok, state=EventState.DELIVERED, next_at=utcnow()
    )
    assert done is not None and done.state is EventState.DELIVERED and done.finished_at
    assert await jobs.claim_callback(owner="a", lease_s=60, now=FAR_FUTURE) is None
    assert await jobs.record_callback(
        event.id, got.token, note=ok, state=EventState.DELIVERED, next_at=utcnow()
    ) is None  # fmt: skip


async def test_an_expired_lease_goes_to_the_next_claimer(jobs: JobStore) -> None:
    job, event = await with_event(jobs)
    await ended(jobs, job)
    first = await claim(jobs, "dead")
    second = await claim(jobs, "alive", now=utcnow() + timedelta(seconds=61))
    assert second.id == event.id and second.lease is not None and second.lease.owner == "alive"
    note = {"at": "t", "error": "late"}
    late = await jobs.record_callback(
        event.id, first.token, note=note, state=EventState.FAILED, next_at=utcnow()
    )
    assert late is None


async def test_a_release_frees_the_event_without_counting(jobs: JobStore) -> None:
    job, event = await with_event(jobs)
    await ended(jobs, job)
    got = await claim(jobs)
    assert await jobs.release_callback(event.id, "other") is None
    released = await jobs.release_callback(event.id, got.token)
    assert released is not None and released.lease is None and released.attempts == 0
    held = await claim(jobs, "b")
    assert await jobs.release_callbacks(utcnow()) == 0  # not expired yet
    assert await jobs.release_callbacks(FAR_FUTURE) == 1
    assert (await claim(jobs, "c")).id == held.id


async def test_the_oldest_due_event_goes_first(jobs: JobStore) -> None:
    made = [await with_event(jobs, n) for n in range(3)]
    for job, _ in reversed(made):
        await ended(jobs, job)
    order = [(await claim(jobs)).id for _ in made]
    assert order == [event.id for _, event in made]


async def test_deleting_a_job_deletes_its_event(jobs: JobStore) -> None:
    job, _ = await with_event(jobs, user_id="gone")
    await ended(jobs, job)
    await jobs.delete_user("gone")
    assert await jobs.callback_event(job.id) is None
    assert await jobs.claim_callback(owner="a", lease_s=60, now=FAR_FUTURE) is None


async def test_claimers_racing_never_both_win(job_backend: JobBackend) -> None:
    jobs = job_backend.store
    for n in range(3):
        job, _ = await with_event(jobs, n)
        await ended(jobs, job)
    handles = [jobs, *[await job_backend.another() for _ in range(3)]]
    now = utcnow()
    claims = await asyncio.gather(
        *(h.claim_callback(owner=f"o{i}", lease_s=60, now=now) for i, h in enumerate(handles)),
        *(h.claim_callback(owner=f"p{i}", lease_s=60, now=now) for i, h in enumerate(handles)),
    )
    won = [c.id for c in claims if c is not None]
    assert len(won) == 3 and len(set(won)) == 3
