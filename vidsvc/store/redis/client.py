"""The one place a Redis URL becomes a client, and where redis-py errors become StorageError.

Timeouts are short so that an outage fails a request in about `timeout_s`, never a default that
hangs. Imports only vidsvc.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, RedisError

from vidsvc.errors import StorageError

# One quick retry, on connection errors only: a pooled connection that died with a restarted
# server gets one fresh attempt, while an outage still fails in milliseconds (redis-py's default
# is three jittered retries, seconds in all). Timeouts are not retried: they already took long.
RETRY = Retry(ExponentialBackoff(cap=0.1, base=0.02), 1, supported_errors=(ConnectionError,))


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Translate driver errors at the store boundary (the message names no URL or password)."""
    try:
        yield
    except (RedisError, TimeoutError) as exc:  # TimeoutError: our own bound on blocking calls
        raise StorageError(f"redis {what} failed: {exc}", details={"backend": "redis"}) from exc


def pool(
    url: str, *, timeout_s: float, max_connections: int, blocking: bool = False, **extra: Any
) -> BlockingConnectionPool:
    """The pool for url (redis://, rediss://, unix://; db and auth in the URL).

    `blocking`: for commands that wait on the server (BLMOVE, a subscriber's reads), bounded by
    the caller instead of a read timeout that would cut them short.
    """
    return BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_s,  # how long a caller may wait for a free pooled connection
        socket_connect_timeout=timeout_s,
        socket_timeout=None if blocking else timeout_s,
        socket_keepalive=True,
        retry=RETRY,
        **extra,
    )


def connect(url: str, *, timeout_s: float, max_connections: int, blocking: bool = False) -> Redis:
    """A client that owns its pool: aclose() closes every connection it opened."""
    return Redis.from_pool(
        pool(url, timeout_s=timeout_s, max_connections=max_connections, blocking=blocking)
    )
