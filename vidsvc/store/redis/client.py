"""The one place a Redis URL becomes a client, and where redis-py errors become StorageError.

Timeouts are short so that an outage fails a request in about `timeout_s`, never a default that
hangs. Imports only vidsvc.errors.

A cancellation that redis-py dropped is delivered here too. With a socket timeout, redis-py
sends every command through `asyncio.wait_for`, which before Python 3.12 returns the result and
swallows the caller's cancellation when the send finishes in the same loop turn as the cancel
(CPython gh-86296): a third of the cancels that landed during a PUBLISH were lost, measured. A
task cancelled there ran on as if nothing happened, and a job waited on its progress writer,
stopped that way at the end of every render: for ever before CLOSE_TIMEOUT bounded the wait, 10 s
since (docs/reliability.md L5).
"""

from __future__ import annotations

import asyncio
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
    """Translate driver errors at the store boundary (the message names no URL or password), and
    raise CancelledError when the task was cancelled inside and the driver dropped it."""
    task = asyncio.current_task()
    asked = task.cancelling() if task is not None else 0  #: cancels it had before the call
    try:
        yield
    except (RedisError, TimeoutError) as exc:  # TimeoutError: our own bound on blocking calls
        _deliver_dropped_cancel(task, asked, exc)
        raise StorageError(f"redis {what} failed: {exc}", details={"backend": "redis"}) from exc
    _deliver_dropped_cancel(task, asked)


def _deliver_dropped_cancel(
    task: asyncio.Task[object] | None, asked: int, cause: BaseException | None = None
) -> None:
    """A cancel asked for during the call and never uncancelled (asyncio.timeout uncancels its
    own) reached no one: raise it, so the task ends as its canceller meant."""
    if task is not None and task.cancelling() > asked:
        raise asyncio.CancelledError from cause


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
