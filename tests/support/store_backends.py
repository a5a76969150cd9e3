"""What the store fixtures (tests/unit/store/conftest.py) hand the contract suites: handles
on one backing store, whichever implementation it is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from vidsvc.store.base import JobStore, PubSub


@dataclass
class JobBackend:
    """Handles on one backing job store. `another()` opens a second handle (a second SQLite
    connection, later a second pool) onto the same data, as a second instance would."""

    name: str
    store: JobStore
    another: Callable[[], Awaitable[JobStore]]
    opened: list[JobStore] = field(default_factory=list)


@dataclass
class PubSubBackend:
    pubsub: PubSub
    subscribers: Callable[[str], int]  #: how many subscriptions a channel has right now
