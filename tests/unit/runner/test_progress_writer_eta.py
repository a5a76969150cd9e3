"""The Reporter and the ProgressWriter: stages onto bands, the encode's ETA and speed on its
progress rows and events, and only while encoding."""

from __future__ import annotations

import pytest

from tests.support.jobs import make_job
from vidsvc.jobs import JobEvent, Progress, Stage
from vidsvc.runner.progress_writer import ProgressWriter
from vidsvc.runner.reporter import Reporter
from vidsvc.store import Stores
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryJobStore
from vidsvc.store.memory_blobs import MemoryBlobStore


async def test_eta_and_speed_are_stored_published_and_cleared_after_encoding() -> None:
    jobs, pubsub = MemoryJobStore(), MemoryPubSub()
    stores = Stores(jobs=jobs, blobs=MemoryBlobStore(), pubsub=pubsub, backlog=MemoryBacklog())
    job = await jobs.create(make_job())
    claimed = await jobs.claim(job.id, owner="w", lease_s=60)
    assert claimed is not None
    async with pubsub.subscribe("c") as messages:
        writer = ProgressWriter(stores, claimed, "c")
        report = Reporter(writer.update, flush=writer.close)
        report(Stage.ENCODING, 0.5, "encoding", eta=12.5, speed=1.6)
        await report.flush()
        row = await jobs.get(job.id)
        assert row is not None and row.progress == Progress(
            stage="encoding", percentage=57.5, message="encoding", eta_seconds=12.5, speed=1.6
        )
        event = JobEvent.from_json(await anext(messages))
        assert (event.progress.eta_seconds, event.progress.speed) == (12.5, 1.6)
        writer = ProgressWriter(stores, row, "c")
        report = Reporter(writer.update, flush=writer.close)
        report(Stage.UPLOADING, 0.0, "storing", eta=1.0, speed=2.0)  # no ETA but the encode's
        await report.flush()
        row = await jobs.get(job.id)
        assert row is not None and (row.progress.eta_seconds, row.progress.speed) == (None, None)
        assert row.progress.percentage == 90.0


def test_bands_never_go_back_and_parts_share_the_span() -> None:
    seen: list[Progress] = []
    report = Reporter(seen.append, span=(0.0, 99.0))
    report(Stage.ENCODING, 1.0)
    report(Stage.VALIDATING, 0.0)  # a later report of an earlier stage does not go back
    assert [p.percentage for p in seen] == [89.1, 89.1]
    seen.clear()
    parts = [report.part(i, 3, f"clip {i + 1}/3: ") for i in range(3)]
    parts[1](Stage.DOWNLOADING, 0.0, "fetching")
    parts[1](Stage.UPLOADING, 1.0, "stored")
    parts[2](Stage.ENCODING, 0.5)
    assert [(p.percentage, p.message) for p in seen] == [
        (33.0, "clip 2/3: fetching"),
        (65.7, "clip 2/3: stored"),
        (85.0, "clip 3/3: encoding"),
    ]


RUNNING = (Stage.DOWNLOADING, Stage.VALIDATING, Stage.ENCODING, Stage.UPLOADING)


@pytest.mark.parametrize("stage", [s for s in Stage if s not in RUNNING])
def test_only_the_running_stages_have_a_band(stage: Stage) -> None:
    with pytest.raises(KeyError):
        stage.percentage(0.5)


async def test_a_store_that_does_not_answer_cannot_hold_up_the_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last progress write is advisory: when the store hangs (a database coming back from
    a restart), close() gives up after CLOSE_TIMEOUT and the job goes on to its terminal
    write, instead of waiting for ever."""
    import asyncio
    import contextlib

    from vidsvc.runner import progress_writer

    jobs = MemoryJobStore()
    stores = Stores(
        jobs=jobs, blobs=MemoryBlobStore(), pubsub=MemoryPubSub(), backlog=MemoryBacklog()
    )
    job = await jobs.create(make_job())
    claimed = await jobs.claim(job.id, owner="w", lease_s=60)
    assert claimed is not None

    released = asyncio.Event()

    async def hang(*_: object, **__: object) -> None:
        """A driver that does not end on cancel (waiting for the server's answer to it)."""
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await released.wait()

    monkeypatch.setattr(jobs, "record_progress", hang)
    monkeypatch.setattr(progress_writer, "CLOSE_TIMEOUT", 0.3)
    writer = ProgressWriter(stores, claimed, "c")
    writer.update(Progress(stage=Stage.UPLOADING, percentage=94.5, message="stored the video"))
    await asyncio.sleep(0.05)  # the writer is now inside the hanging write
    async with asyncio.timeout(5):  # without the bound, close() waits for ever
        await writer.close()
    released.set()  # the stuck write ends, as the server answers at last
