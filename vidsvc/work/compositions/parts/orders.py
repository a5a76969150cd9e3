"""What a split render's rows carry: the `Order` in each part row's payload, their ids and
their blobs' keys. A leaf of the package: the rows are the only channel between instances."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vidsvc.errors import StorageError
from vidsvc.graph import split as parts
from vidsvc.jobs import Job, JobKind
from vidsvc.runner.lifecycle import Deps

VIDEO, SOUND, JOIN = "video", "sound", "join"
#: a part's id: part_ + its parent's hex + the parent's attempt + its name (v0…, s, j)
ID = re.compile(r"part_[A-Za-z0-9_]{1,80}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    parent: str  #: the composition's id
    parent_token: str  #: its lease token when it split: every write to it is fenced by this
    role: str  #: VIDEO, SOUND or JOIN
    index: int  #: a video part's index (0 for the others)
    plan: str  #: the plan hash (graph/split.py Split.digest)
    facts: Mapping[str, str]  #: what must be equal where a part renders (facts.py)
    split: Mapping[str, Any]  #: Split.to_dict()
    duration_ms: int  #: the whole timeline's
    chunk_ms: int  #: the plan's asks, so every instance plans the same parts
    max_parts: int
    siblings: tuple[str, ...]  #: the video parts' ids in order, then the sound's
    cache_key: str | None = None  #: recorded with the parent's completion
    slots: int = 1  #: parts the live instances ran at once when it split (graph/split.py)
    in_flight: int = 0  #: at most this many of its rows queued or running; 0: all (flight.py)

    def to_payload(self) -> dict[str, Any]:
        payload = dataclasses.asdict(self)
        payload["facts"], payload["siblings"] = dict(self.facts), list(self.siblings)
        return payload

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> Order:
        return cls(**{**payload, "siblings": tuple(payload["siblings"])})

    @property
    def sizing(self) -> parts.Sizing:
        """The plan's asks, so every instance plans the same parts."""
        return parts.Sizing(chunk_ms=self.chunk_ms, max_parts=self.max_parts, slots=self.slots)

    @property
    def plan_split(self) -> parts.Split:
        return parts.Split.from_dict(self.split)

    def as_role(self, role: str, index: int = 0) -> Order:
        return dataclasses.replace(self, role=role, index=index)

    @property
    def join_id(self) -> str:
        return self.siblings[-1].removesuffix("_s") + "_j"

    @property
    def video_ids(self) -> tuple[str, ...]:
        return self.siblings[:-1]


def ids(parent: Job, count: int) -> tuple[str, ...]:
    """The rows of `parent`'s split in `count` video parts, then its sound's; named by the
    parent's attempt, so an earlier attempt's rows are never taken for this one's."""
    stem = f"part_{parent.id.removeprefix('comp_')}_{parent.attempts}"
    return (*(f"{stem}_v{k}" for k in range(count)), f"{stem}_s")


def as_job(job_id: str, order: Order, parent: Job) -> Job:
    """A queued row for `order`, as old as its parent: the database's fallback claim takes
    the oldest row first, so a started job's parts go before jobs posted after it."""
    job = Job.queued(
        id=job_id,
        kind=JobKind.PART,
        payload=order.to_payload(),
        user_id=parent.user_id,
        max_attempts=parent.max_attempts,
    )
    return dataclasses.replace(job, created_at=parent.created_at)


async def drop(deps: Deps, keys: Iterable[str | None]) -> None:
    """Delete these blobs, best effort: a leftover costs space, not safety."""
    for key in keys:
        if key:
            with contextlib.suppress(StorageError, OSError):
                await deps.stores.blobs.delete(key)


def blob_key(order: Order, name: str, token: str) -> str:
    """Where a part's file goes: under its parent, the plan hash and the lease token of the
    claim that made it, so a zombie's late upload lands beside, never over, the recorded one."""
    return f"parts/{order.parent}/{order.plan[:16]}/{token[:16]}-{name}"
