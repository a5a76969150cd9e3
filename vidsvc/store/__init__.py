"""State and blob backends behind the Protocols of store/base.py, selected from Settings.

`open_stores(settings)` is the one place that turns DATABASE_URL, AWS_S3_BUCKET and REDIS_URL into
backends: SQLite + local disk + in-process pub/sub and backlog in the embedded mode; the
production drivers arrive with the production-mode issue. Imports only the leaves
(vidsvc.config, vidsvc.errors, vidsvc.jobs); never runner, graph or http.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from vidsvc.config import Settings
from vidsvc.errors import ConfigError
from vidsvc.store.base import Backlog, BlobStore, JobStore, PubSub
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.sqlite import SqliteJobStore

__all__ = ["Backlog", "BlobStore", "JobStore", "PubSub", "Stores", "open_stores", "sqlite_path"]

_LATER = "arrives with the production-mode issue"


@dataclass(frozen=True)
class Stores:
    jobs: JobStore
    blobs: BlobStore
    pubsub: PubSub
    backlog: Backlog


def sqlite_path(settings: Settings) -> Path | str:
    """The SQLite database DATABASE_URL names: empty → DATA_DIR/vidsvc.db; `sqlite:///rel.db`
    is relative to the working directory and `sqlite:////abs.db` absolute (SQLAlchemy's rule);
    `sqlite:///:memory:` is a private in-memory database. ConfigError for anything else."""
    url = settings.database_url.strip()
    if not url:
        return settings.data_dir / "vidsvc.db"
    scheme = url.partition(":")[0].lower()
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        raise ConfigError(f"DATABASE_URL: PostgreSQL {_LATER}")
    if not url.startswith("sqlite:///") or url == "sqlite:///":
        # The value itself may carry a password, so only its scheme is echoed.
        raise ConfigError(
            f"DATABASE_URL: expected sqlite:///PATH or postgresql://…, got a {scheme!r} URL"
        )
    rest = url.removeprefix("sqlite:///")
    return rest if rest == ":memory:" else Path(rest)


def _check_unsupported(settings: Settings) -> None:
    if settings.aws_s3_bucket:
        raise ConfigError(f"AWS_S3_BUCKET: S3 blob storage {_LATER}")
    if settings.redis_url:
        raise ConfigError(f"REDIS_URL: Redis {_LATER}")


@asynccontextmanager
async def open_stores(settings: Settings) -> AsyncIterator[Stores]:
    """Open every backend (migrations applied), yield them, close them in reverse order.

    All configuration errors are raised before anything is opened.
    """
    db_path = sqlite_path(settings)
    _check_unsupported(settings)
    async with AsyncExitStack() as stack:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"DATA_DIR={str(settings.data_dir)!r}: {exc.strerror}") from exc
        jobs = await SqliteJobStore.open(db_path)
        stack.push_async_callback(jobs.aclose)
        blobs = LocalBlobStore(settings.data_dir / "blobs")
        stack.push_async_callback(blobs.aclose)
        pubsub = MemoryPubSub()
        stack.push_async_callback(pubsub.aclose)
        backlog = MemoryBacklog()
        stack.push_async_callback(backlog.aclose)
        yield Stores(jobs=jobs, blobs=blobs, pubsub=pubsub, backlog=backlog)
