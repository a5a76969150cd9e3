"""While a part renders: its parent's lease and progress.

Every HEARTBEAT_SECONDS the part renews its waiting parent's lease (JOB_TIMEOUT: a split job
whose parts all stall that long is reaped and renders in one pass) and writes the parent's
progress: the encoding band by frames done across the parts, as their rows say. Both writes
are fenced by the parent's token, so a parent cancelled, requeued or finished refuses them,
and the part stops (`ParentGone`). The store keeps percentages from going back, so parts
writing at once never move the bar backwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from vidsvc.errors import ProcessingFailed, StorageError
from vidsvc.jobs import BANDS, Job, JobState, Progress, Stage, utcnow
from vidsvc.runner.lifecycle import Deps, publish, retrying
from vidsvc.work.compositions.parts.orders import Order

ETA_FROM = 0.05  #: the share of the frames done before a split job reports an ETA


class ParentGone(ProcessingFailed):
    """The composition this part belongs to is no longer waiting for it."""


async def waiting_parent(order: Order, deps: Deps) -> Job | None:
    """The parent, if it still waits for this split (processing under the order's token)."""
    parent = await retrying(lambda: deps.stores.jobs.get(order.parent))
    if parent is None or parent.state is not JobState.PROCESSING:
        return None
    return parent if parent.token == order.parent_token else None


def done_fraction(order: Order, rows: Sequence[Job | None]) -> float:
    """Frames encoded across the video parts (rows in the order of order.video_ids), 0–1
    (with smart rendering, of the frames not copied)."""
    low, high = BANDS[Stage.ENCODING]
    split, done = order.plan_split, 0.0
    for part, row in zip(split.parts, rows, strict=True):
        if row is None:
            continue
        if row.state is JobState.COMPLETED:
            done += split.encoded(part)
        elif row.state is JobState.PROCESSING and row.progress.stage == Stage.ENCODING:
            done += split.encoded(part) * (row.progress.percentage - low) / (high - low)
    return min(done / max(split.encoded_frames, 1), 1.0)


def eta(parent: Job, fraction: float) -> float | None:
    """Seconds until the parts are done, at the pace they went since the hand-off; None
    before 5 % of the frames (an ETA is never invented from nothing)."""
    note = parent.metadata.get("split") or {}
    if fraction < ETA_FROM or parent.started_at is None or "prepare_seconds" not in note:
        return None
    went = (utcnow() - parent.started_at).total_seconds() - float(note["prepare_seconds"])
    return round(max(went, 0.0) * (1 - fraction) / fraction, 1)


async def beat(order: Order, deps: Deps) -> None:
    """One renewal and progress write; ParentGone when the parent refuses them."""
    jobs = deps.stores.jobs
    parent = await jobs.get(order.parent)
    if parent is None or parent.cancel_requested:
        raise ParentGone(f"composition {order.parent} was cancelled")
    if not await jobs.renew(order.parent, order.parent_token, deps.settings.job_timeout):
        raise ParentGone(f"composition {order.parent} no longer waits for this part")
    rows = [await jobs.get(row) for row in order.video_ids]
    done = sum(1 for row in rows if row is not None and row.state is JobState.COMPLETED)
    fraction = done_fraction(order, rows)
    message = f"encoding: {done} of {len(rows)} parts done ({fraction:.0%} of the frames)"
    progress = Progress(
        stage=Stage.ENCODING,
        percentage=Stage.ENCODING.percentage(fraction),
        message=message,
        eta_seconds=eta(parent, fraction),
    )
    await publish(deps, await jobs.record_progress(order.parent, order.parent_token, progress))


@asynccontextmanager
async def keeping(order: Order, deps: Deps) -> AsyncIterator[None]:
    """Keep the parent's lease and progress while the block runs; the block is cancelled
    and ParentGone raised when the parent stops waiting."""
    # at once: the parent may have been gone before the claim (a storage blip is ridden out)
    await retrying(lambda: beat(order, deps))
    body = asyncio.current_task()
    assert body is not None
    gone: list[ParentGone] = []

    async def loop() -> None:
        while True:
            await asyncio.sleep(deps.settings.heartbeat_seconds)
            try:
                await beat(order, deps)
            except StorageError:
                continue  # a blip: the lease is long, try again next beat
            except ParentGone as exc:
                gone.append(exc)
                body.cancel()
                return

    keeper = asyncio.create_task(loop(), name=f"keep:{order.parent}")
    try:
        yield
    except asyncio.CancelledError:
        if gone:
            body.uncancel()  # our own cancel, turned into the error it stands for
            raise gone[0] from None
        raise
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
