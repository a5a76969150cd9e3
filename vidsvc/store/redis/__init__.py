"""Redis backends shared by every instance: RedisBacklog (queue order, wake-ups) and RedisPubSub.

    keys.py     every Redis key and channel name, in one commented block
    client.py   the one place a Redis URL becomes a connection pool; redis errors → StorageError
    backlog.py  RedisBacklog: pending list + BLMOVE into per-consumer processing lists
    pubsub.py   RedisPubSub: one subscriber connection per instance, fanned out locally

Redis only orders and wakes; the database row stays the lock and the truth, and a reconciler
re-pushes queued rows that Redis lost. Imports only vidsvc.errors, vidsvc.jobs and
store.inprocess; never runner, graph or http. Loaded only when REDIS_URL is set.
"""

from __future__ import annotations

from vidsvc.store.redis.backlog import RedisBacklog
from vidsvc.store.redis.pubsub import RedisPubSub

__all__ = ["RedisBacklog", "RedisPubSub"]
