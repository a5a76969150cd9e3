"""Every Redis key and channel name vidsvc uses, in one block (arq's constants.py).

Each name follows the configurable prefix (default "vidsvc:"), so instances that share a Redis
must share a prefix, and tests isolate themselves with one of their own. A leaf: imports nothing.
"""

from __future__ import annotations

#: list: job ids waiting to be claimed, oldest at the head; push keeps it free of duplicates
PENDING = "backlog:pending"
#: set: the ids in PENDING pushed ahead of the rest (Lane.AHEAD, HEAD), until acked
AHEAD = "backlog:ahead"
#: list per consumer (one per RedisBacklog handle): ids it popped and has not acked yet
PROCESSING = "backlog:processing:{consumer}"
#: sorted set: consumer id -> Redis server time (ms) until which that consumer is known alive
CONSUMERS = "backlog:consumers"
#: sorted set: consumer id -> Redis server time (ms) until which that instance says it is live
PRESENT = "backlog:present"
#: pub/sub channel that carries PubSub channel `{channel}` (e.g. "job:<id>") between instances
CHANNEL = "events:{channel}"
