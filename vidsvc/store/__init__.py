"""State and blob backends behind the Protocols of store/base.py, selected from Settings.

`open_stores(settings)` is the one place that turns DATABASE_URL, AWS_S3_BUCKET and REDIS_URL into
backends: SQLite + local disk + in-process pub/sub and backlog when they are empty (the embedded
mode); PostgreSQL (asyncpg), S3 (aiobotocore) and Redis when they are set. Each is chosen on its
own, and the production drivers are imported only when chosen. Imports only the leaves
(vidsvc.config, vidsvc.errors, vidsvc.jobs); never runner, graph or http.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from vidsvc.config import Settings
from vidsvc.errors import ConfigError
from vidsvc.store.base import Backlog, BlobStore, JobStore, PubSub, TemplateStore
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory_templates import MemoryTemplateStore
from vidsvc.store.sqlite import SqliteJobStore

log = logging.getLogger(__name__)

__all__ = [
    "Backlog",
    "BlobStore",
    "JobStore",
    "PubSub",
    "Stores",
    "TemplateStore",
    "open_stores",
    "sqlite_path",
]


@dataclass(frozen=True)
class Stores:
    jobs: JobStore
    blobs: BlobStore
    pubsub: PubSub
    backlog: Backlog
    #: True when the job store is shared by several instances (PostgreSQL): then nothing may
    #: assume that a processing row belongs to a dead process; leases and the reaper decide.
    shared: bool = False
    #: Which optional components are configured: {"redis": bool, "s3": bool}.
    configured: tuple[str, ...] = ()
    #: Templates, in the job store's database (a fresh in-memory one where a test builds Stores).
    templates: TemplateStore = field(default_factory=MemoryTemplateStore)


def is_postgres(settings: Settings) -> bool:
    scheme = settings.database_url.strip().partition(":")[0].lower()
    return scheme in ("postgres", "postgresql")


def sqlite_path(settings: Settings) -> Path | str:
    """The SQLite database DATABASE_URL names: empty → DATA_DIR/vidsvc.db; `sqlite:///rel.db`
    is relative to the working directory and `sqlite:////abs.db` absolute (SQLAlchemy's rule);
    `sqlite:///:memory:` is a private in-memory database. ConfigError for anything else."""
    url = settings.database_url.strip()
    if not url:
        return settings.data_dir / "vidsvc.db"
    scheme = url.partition(":")[0].lower()
    if scheme.startswith("postgresql+"):
        raise ConfigError("DATABASE_URL: use a plain postgresql:// URL (no driver suffix)")
    if not url.startswith("sqlite:///") or url == "sqlite:///":
        # The value itself may carry a password, so only its scheme is echoed.
        raise ConfigError(
            f"DATABASE_URL: expected sqlite:///PATH or postgresql://…, got a {scheme!r} URL"
        )
    rest = url.removeprefix("sqlite:///")
    return rest if rest == ":memory:" else Path(rest)


async def _open_jobs(settings: Settings, stack: AsyncExitStack) -> tuple[JobStore, TemplateStore]:
    """The job store and the template store on its connection (closed with it)."""
    if is_postgres(settings):
        from vidsvc.store.postgres import PostgresJobStore

        pg = await PostgresJobStore.open(settings.database_url, pool_size=settings.db_pool_size)
        stack.push_async_callback(pg.aclose)
        return pg, pg.templates()
    lite = await SqliteJobStore.open(sqlite_path(settings))
    stack.push_async_callback(lite.aclose)
    return lite, lite.templates()


async def _open_blobs(settings: Settings, stack: AsyncExitStack) -> BlobStore:
    blobs: BlobStore
    if settings.aws_s3_bucket:
        from vidsvc.store.s3 import S3BlobStore

        blobs = await S3BlobStore.open(settings)
    else:
        blobs = LocalBlobStore(settings.data_dir / "blobs")
    stack.push_async_callback(blobs.aclose)
    return blobs


async def _open_redis(settings: Settings, stack: AsyncExitStack) -> tuple[PubSub, Backlog]:
    pubsub: PubSub
    backlog: Backlog
    if settings.redis_url:
        from vidsvc.store.redis import RedisBacklog, RedisPubSub

        pubsub = await RedisPubSub.open(
            settings.redis_url,
            prefix=settings.redis_prefix,
            max_connections=settings.redis_max_connections,
        )
        stack.push_async_callback(pubsub.aclose)
        backlog = await RedisBacklog.open(settings.redis_url, prefix=settings.redis_prefix)
        policy = await backlog.eviction_policy()
        # docs/reliability.md D2: an evicting Redis can drop the backlog
        if policy != "noeviction":
            log.warning(
                "Redis maxmemory-policy is %s, not noeviction: under memory pressure it may drop"
                " backlog entries (the reconciler re-pushes them from the database)",
                policy,
            )
    else:
        pubsub = MemoryPubSub()
        stack.push_async_callback(pubsub.aclose)
        backlog = MemoryBacklog()
    stack.push_async_callback(backlog.aclose)
    return pubsub, backlog


@asynccontextmanager
async def open_stores(settings: Settings) -> AsyncIterator[Stores]:
    """Open every backend (migrations applied), yield them, close them in reverse order.

    All configuration errors are raised before anything is opened.
    """
    if not is_postgres(settings):
        sqlite_path(settings)  # a bad DATABASE_URL stops us before anything is opened
    async with AsyncExitStack() as stack:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"DATA_DIR={str(settings.data_dir)!r}: {exc.strerror}") from exc
        jobs, templates = await _open_jobs(settings, stack)
        blobs = await _open_blobs(settings, stack)
        pubsub, backlog = await _open_redis(settings, stack)
        configured = tuple(
            name
            for name, on in (("redis", settings.redis_url), ("s3", settings.aws_s3_bucket))
            if on
        )
        yield Stores(
            jobs=jobs,
            blobs=blobs,
            pubsub=pubsub,
            backlog=backlog,
            shared=is_postgres(settings),
            configured=configured,
            templates=templates,
        )
