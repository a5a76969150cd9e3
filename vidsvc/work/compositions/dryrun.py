"""A composition's dry run (docs/api.md#dry-run): everything a render meets before it encodes,
answered as a plan; no row, no render, nothing kept.

    admitted (parse + check, as at POST) → a turn (`Turns`: at most MAX_CONCURRENT_JOBS at
    once) → a scratch workspace → render.planned (stage, probe, measure narrations, plan the
    timeline) → `plan_json`

The staged inputs go with the workspace as soon as the plan is made. Narration measurements
stay cached in the process by file bytes (media/audible.py), so a render that follows
downloads its inputs again but does not measure them again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed, QueueFull, VidsvcError
from vidsvc.graph.slots import ClipSlot
from vidsvc.jobs import new_job_id
from vidsvc.media.workspace import workspace
from vidsvc.runner.reporter import Reporter
from vidsvc.work.compositions.estimate import Estimator
from vidsvc.work.compositions.facts import preview
from vidsvc.work.compositions.prepared import Planned
from vidsvc.work.compositions.render import planned

log = logging.getLogger(__name__)
#: How long a dry run waits for a turn before the 503: a dry run is interactive (the console's
#: Plan button), so a short wait and a Retry-After beat a request held for minutes.
WAIT_S = 10.0
RETRY_AFTER_S = 5


class Turns:
    """At most `limit` dry runs at once on this instance (MAX_CONCURRENT_JOBS: a dry run
    downloads and probes as a job does, but takes no unit of the render pool, so a render is
    never held up by one). A dry run that gets no turn within WAIT_S is 503 QUEUE_FULL."""

    def __init__(self) -> None:
        self._slots: asyncio.Semaphore | None = None  # made at first use: the size is a setting

    @asynccontextmanager
    async def turn(self, limit: int) -> AsyncIterator[None]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(limit)
        slots = self._slots
        try:
            async with asyncio.timeout(WAIT_S):
                await slots.acquire()
        except TimeoutError:
            raise QueueFull(
                f"{limit} dry runs are under way (MAX_CONCURRENT_JOBS) and none ended within "
                f"{WAIT_S:g} s",
                details={"retry_after": RETRY_AFTER_S},
            ) from None
        try:
            yield
        finally:
            slots.release()


async def rehearse(comp: spec.Composition, settings: Settings) -> Planned:
    """`comp` staged, probed, measured and planned in a scratch workspace that is removed
    before this returns. Errors are the ones its job would fail with: a VidsvcError as it is,
    anything else PROCESSING_FAILED, as the lifecycle (runner/execute.py) records a crash."""
    # Named like a job's directory, so a restarted instance sweeps what a crash left here.
    try:
        async with workspace(settings, f"{new_job_id()}-dryrun") as work:
            return await planned(comp, settings, work, Reporter())  # a Reporter with no sink
    except VidsvcError:
        raise
    except Exception as exc:
        log.exception("dry run crashed")
        raise ProcessingFailed(f"internal error ({type(exc).__name__})") from exc


async def local_plan(comp: spec.Composition, settings: Settings) -> dict[str, Any]:
    """The plan `vidsvc render --plan` prints: no server, so the estimate is the one an idle
    instance that has rendered nothing yet would give."""
    done = await rehearse(comp, settings)
    return plan_json(done, Estimator().estimate(comp))


def plan_json(done: Planned, estimated: float | None) -> dict[str, Any]:
    """The plan of SPEC §3.2 (field names are the contract); seconds, to the millisecond."""
    timeline, output = done.timeline, done.comp.output
    width, height = output.size
    return {
        "duration": _s(timeline.duration_ms),
        "width": width,
        "height": height,
        "fps": output.fps,
        "clips": [_clip(slot) for slot in timeline.clips],
        "renditions": [
            {"aspect_ratio": _aspect(shape), "width": shape.size[0], "height": shape.size[1]}
            for shape in output.shapes()
        ],
        "warnings": list(timeline.warnings),
        "estimated_duration": estimated,
        **preview(output, timeline.duration_ms),
    }


def _clip(slot: ClipSlot) -> dict[str, Any]:
    """One clip's place: `trim_end` is where the source stops being shown; `extended_by` how
    much longer the clip lasts than that (held, looped or slowed: `extend`)."""
    return {
        "index": slot.index,
        "url": slot.source,
        "start_time": _s(slot.start_ms),
        "end_time": _s(slot.end_ms),
        "trim_start": _s(slot.in_ms),
        "trim_end": _s(slot.in_ms + slot.source_ms),
        "transition_in": slot.transition,
        "transition_duration": _s(slot.transition_ms),
        "extended_by": _s(slot.extended_ms),
        "extend": slot.extend if slot.extended_ms else None,
        "voiceover": _voice(slot),
    }


def _voice(slot: ClipSlot) -> dict[str, float] | None:
    """Where the clip's narration sounds on the output: its audible part (`end_time`), and
    where the file itself stops (`heard_until`: trailing silence included, cut at the clip)."""
    voice = slot.voice
    if voice is None:
        return None
    start = slot.start_ms + voice.delay_ms
    return {
        "start_time": _s(start),
        "end_time": _s(start + voice.audible_ms),
        "heard_until": _s(start + voice.heard_ms),
    }


def _aspect(output: spec.Output) -> str:
    """The output's aspect ratio by name, or W:H reduced when it was given as a size."""
    if output.width is None or output.height is None:
        return output.aspect_ratio
    common = math.gcd(output.width, output.height)
    return f"{output.width // common}:{output.height // common}"


def _s(ms: int) -> float:
    return round(ms / 1000, 3)
