"""execute(): one claimed job, from its claim to exactly one terminal state.

The lifecycle knows no kind of work: it looks the job's kind up in the handlers it was given
(the composition root builds them), runs that handler, and owns what every kind shares: a
failure becomes FAILED with the error's code, a storage outage is left for the lease to lapse,
a cancel ends it CANCELLED or hands it back (as the pool's `Control` says), and what follows
a job happens in one place (`_after`): the final row is published, then handed to the
handler's `finished` and to every hook in `deps.after_job`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from vidsvc.errors import ProcessingFailed, StorageError, VidsvcError
from vidsvc.jobs import Job, JobError, JobKind, JobState
from vidsvc.runner.lifecycle import Control, Deps, Handler, StopReason, channel, publish, terminal
from vidsvc.runner.progress_writer import ProgressWriter
from vidsvc.runner.reporter import Reporter

log = logging.getLogger(__name__)
Handlers = Mapping[JobKind, Handler]


async def _fail(job: Job, deps: Deps, exc: VidsvcError) -> Job | None:
    error = JobError(code=exc.code, message=exc.message, details=exc.details)
    return await terminal(
        lambda: deps.stores.jobs.finish(job.id, job.token, JobState.FAILED, error=error)
    )


async def _storage_down(job: Job, deps: Deps, exc: StorageError) -> Job | None:
    """Storage stayed down through the retries: not the job's fault, so it is retried later.

    Nothing is written: the lease is no longer renewed, expires, and the reaper (on any
    instance) puts the job back in the queue with this attempt counted, which also spaces the
    retries by LEASE_SECONDS. Only the last allowed attempt fails, with STORAGE_ERROR.
    """
    if job.attempts < job.max_attempts:
        log.warning(
            "storage unavailable; retrying after the lease expires",
            extra={"job_id": job.id, "attempt": job.attempts},
        )
        return None
    return await _fail(job, deps, exc)


async def _stopped(job: Job, deps: Deps, control: Control) -> Job | None:
    jobs = deps.stores.jobs
    if control.reason is StopReason.CANCEL:
        return await terminal(lambda: jobs.finish(job.id, job.token, JobState.CANCELLED))
    if control.reason is StopReason.SHUTDOWN:
        return await terminal(lambda: jobs.requeue(job.id, job.token))
    return None  # the lease was lost: the new holder owns the job now


async def _after(final: Job | None, handler: Handler, deps: Deps) -> None:
    """What follows every job that this worker ended (None: fenced out, nothing to do). A
    job still processing was handed off (a split render waits for its parts, holding no
    slot): its handler hears of it, the after-job hooks wait for its end."""
    await publish(deps, final)
    if final is None:
        return
    await handler.finished(final, deps)
    if not final.state.terminal:
        return
    for hook in deps.after_job:
        try:
            await hook(final)
        except Exception:  # an observer's bug must not turn a finished job into a crash
            log.exception("after-job hook failed", extra={"job_id": final.id})


async def execute(job: Job, deps: Deps, control: Control, handlers: Handlers) -> Job | None:
    """Run a claimed job to a terminal state (or hand it back); returns the final row."""
    started = time.monotonic()
    handler = handlers[job.kind]
    writer = ProgressWriter(deps.stores, job, channel(job.id))
    final: Job | None = None
    log.info("job started", extra={"job_id": job.id, "attempt": job.attempts})
    await publish(deps, job)  # watchers learn it is processing before the first progress
    try:
        final = await handler.run(job, deps, Reporter(writer.update, flush=writer.close))
    except asyncio.CancelledError:
        await asyncio.shield(writer.close())
        final = await _stopped(job, deps, control)
        await asyncio.shield(publish(deps, final))
        raise
    except StorageError as exc:
        await writer.close()
        final = await _storage_down(job, deps, exc)
    except VidsvcError as exc:
        await writer.close()
        final = await _fail(job, deps, exc)
    except Exception as exc:  # a bug must still end the job, never strand it
        log.exception("job crashed", extra={"job_id": job.id})
        await writer.close()
        final = await _fail(job, deps, ProcessingFailed(f"internal error ({type(exc).__name__})"))
    control.settled = True
    await _after(final, handler, deps)
    state = final.state.value if final else "lost"
    elapsed = round((time.monotonic() - started) * 1000)
    log.info("job finished", extra={"job_id": job.id, "state": state, "elapsed_ms": elapsed})
    return final
