"""execute(): one claimed job to exactly one terminal state, whatever its handler does."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.support.lifecycle import Scripted, claimed, deps, memory_stores
from vidsvc.errors import InvalidClipFormat, StorageError
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.runner.execute import execute
from vidsvc.runner.lifecycle import Control, Deps, StopReason, channel


async def test_dispatches_by_kind_and_follows_with_every_after_hook() -> None:
    stores = memory_stores()
    seen: list[str] = []

    async def hook(job: Job) -> None:
        seen.append(job.id)

    compositions, clips = Scripted(), Scripted()
    job = await claimed(stores, kind=JobKind.CLIPS)
    handlers = {JobKind.COMPOSITION: compositions, JobKind.CLIPS: clips}
    final = await execute(job, deps(stores, (hook,)), Control(), handlers)
    assert final is not None and final.state is JobState.COMPLETED
    assert clips.ran == [job.id] and compositions.ran == []
    assert [j.id for j in clips.finished_jobs] == [job.id] and seen == [job.id]


async def test_the_final_row_is_published() -> None:
    stores = memory_stores()
    job = await claimed(stores)
    async with stores.pubsub.subscribe(channel(job.id)) as messages:
        await execute(job, deps(stores), Control(), {JobKind.COMPOSITION: Scripted()})
        published = [await anext(messages), await anext(messages)]
    assert b'"processing"' in published[0] and b'"completed"' in published[1]


async def test_a_vidsvc_error_fails_the_job_with_its_code() -> None:
    stores = memory_stores()

    async def refuse(job: Job, d: Deps) -> Job | None:
        raise InvalidClipFormat("clips[0].url: not a video", details={"field": "clips[0].url"})

    job = await claimed(stores)
    final = await execute(job, deps(stores), Control(), {JobKind.COMPOSITION: Scripted(refuse)})
    assert final is not None and final.state is JobState.FAILED and final.error is not None
    assert final.error.code == "INVALID_CLIP_FORMAT"
    assert final.error.details == {"field": "clips[0].url"}


async def test_a_bug_still_ends_the_job_failed() -> None:
    stores = memory_stores()

    async def bug(job: Job, d: Deps) -> Job | None:
        raise KeyError("oops")

    job = await claimed(stores)
    final = await execute(job, deps(stores), Control(), {JobKind.COMPOSITION: Scripted(bug)})
    assert final is not None and final.state is JobState.FAILED and final.error is not None
    assert final.error.code == "PROCESSING_FAILED" and "KeyError" in final.error.message


async def test_storage_down_leaves_the_job_to_its_lease_until_the_last_attempt() -> None:
    stores = memory_stores()

    async def down(job: Job, d: Deps) -> Job | None:
        raise StorageError("s3 is down")

    handlers = {JobKind.COMPOSITION: Scripted(down)}
    early = await claimed(stores, max_attempts=3)
    assert await execute(early, deps(stores), Control(), handlers) is None
    row = await stores.jobs.get(early.id)
    assert row is not None and row.state is JobState.PROCESSING  # the reaper hands it on
    last = await claimed(stores, max_attempts=1)
    final = await execute(last, deps(stores), Control(), handlers)
    assert final is not None and final.error is not None
    assert final.error.code == "STORAGE_ERROR"


@pytest.mark.parametrize(
    ("reason", "state"),
    [
        (StopReason.CANCEL, JobState.CANCELLED),
        (StopReason.SHUTDOWN, JobState.QUEUED),
        (StopReason.LOST, JobState.PROCESSING),  # the new holder's row: untouched
    ],
)
async def test_a_stopped_job_ends_as_its_stop_reason_says(
    reason: StopReason, state: JobState
) -> None:
    stores = memory_stores()
    handler = Scripted()
    handler.gate.clear()  # runs until cancelled
    job = await claimed(stores)
    control = Control()
    task = asyncio.create_task(execute(job, deps(stores), control, {JobKind.COMPOSITION: handler}))
    while not handler.ran:
        await asyncio.sleep(0.001)
    control.reason = reason
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    row = await stores.jobs.get(job.id)
    assert row is not None and row.state is state


async def test_a_failing_after_hook_does_not_undo_the_job() -> None:
    stores = memory_stores()
    later: list[str] = []

    async def broken(job: Job) -> None:
        raise RuntimeError("observer bug")

    async def next_hook(job: Job) -> None:
        later.append(job.id)

    job = await claimed(stores)
    handlers = {JobKind.COMPOSITION: Scripted()}
    final = await execute(job, deps(stores, (broken, next_hook)), Control(), handlers)
    assert final is not None and final.state is JobState.COMPLETED and later == [job.id]
