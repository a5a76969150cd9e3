"""open_stores(settings): URL → backend selection, one-line ConfigErrors, ordered close."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.jobs import make_job
from vidsvc.config import Settings
from vidsvc.errors import ConfigError, StorageError
from vidsvc.store import Stores, open_stores, sqlite_path
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.memory import MemoryBacklog, MemoryPubSub
from vidsvc.store.sqlite import SqliteJobStore


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"DATA_DIR": str(tmp_path / "data"), **env})


async def test_embedded_defaults(tmp_path: Path) -> None:
    async with open_stores(settings(tmp_path)) as stores:
        assert isinstance(stores, Stores)
        assert isinstance(stores.jobs, SqliteJobStore)
        assert isinstance(stores.blobs, LocalBlobStore)
        assert isinstance(stores.pubsub, MemoryPubSub)
        assert isinstance(stores.backlog, MemoryBacklog)
        assert stores.blobs.root == (tmp_path / "data" / "blobs").resolve()
        job = await stores.jobs.create(make_job())
    assert (tmp_path / "data" / "vidsvc.db").is_file()
    with pytest.raises(StorageError):
        await stores.jobs.get(job.id)  # closed on exit
    async with open_stores(settings(tmp_path)) as again:
        assert await again.jobs.get(job.id) == job


async def test_sqlite_url(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "x.db"
    async with open_stores(settings(tmp_path, DATABASE_URL=f"sqlite:///{db}")) as stores:
        await stores.jobs.ping()
    assert db.is_file()


def test_sqlite_url_forms(tmp_path: Path) -> None:
    assert sqlite_path(settings(tmp_path, DATABASE_URL="sqlite:///rel/x.db")) == Path("rel/x.db")
    assert sqlite_path(settings(tmp_path, DATABASE_URL="sqlite:////abs/x.db")) == Path("/abs/x.db")
    assert sqlite_path(settings(tmp_path, DATABASE_URL="sqlite:///:memory:")) == ":memory:"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DATABASE_URL": "postgresql+asyncpg://u:secret@db/v"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u:secret@db/v"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///"}, "DATABASE_URL"),
    ],
)
async def test_bad_database_urls_stop_start_up(
    tmp_path: Path, env: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        async with open_stores(settings(tmp_path, **env)):
            pass
    message = str(caught.value)
    assert message.startswith(f"{names}:") and "\n" not in message
    assert "secret" not in message
    assert not (tmp_path / "data").exists()  # refused before anything was opened


async def test_unusable_data_dir(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"^DATA_DIR="):
        async with open_stores(Settings.from_env({"DATA_DIR": str(tmp_path / "file" / "d")})):
            pass
