"""parts/work.py: when an instance whose facts differ from the plan's hands a part back, and
when the part gives up. The two-instance case is
tests/acceptance/reliability/test_split_instances.py (an instance with another FFmpeg)."""

from __future__ import annotations

import dataclasses

from vidsvc.jobs import Job, JobKind
from vidsvc.work.compositions.parts.work import declines, exhausted


def _row(declined: object = None) -> Job:
    job = Job.queued(id="part_x_1_v0", kind=JobKind.PART, payload={}, user_id=None,
                     max_attempts=3)  # fmt: skip
    return job if declined is None else dataclasses.replace(job, metadata={"declined": declined})


def test_one_instance_declining_again_and_again_is_not_every_instance() -> None:
    """`b` cannot render the part; `a`, which can, is busy: `b` takes it back every second.
    Ten declines by `b` alone do not fail the part on two live instances."""
    declined: dict[str, int] = {}
    for _ in range(10):
        declined = declines(_row(declined), "b")
    assert declined == {"b": 10}
    assert not exhausted(declined, live=2)
    assert exhausted(declined, live=1)  # `a` gone: nobody left who can render it


def test_every_live_instance_twice_gives_up() -> None:
    assert not exhausted({"a": 2, "b": 1}, live=2)
    assert exhausted({"a": 2, "b": 2}, live=2)
    assert not exhausted({}, live=1)


def test_a_list_from_before_is_counted() -> None:
    assert declines(_row(["b", "b", "a"]), "a") == {"b": 2, "a": 2}
