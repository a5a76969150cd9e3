"""A PostgreSQL server for the tests; a pytest plugin (`-p tests.support.pg_server`).

`pg_server` (session) is the server named by VIDSVC_TEST_DATABASE_URL when that is set, otherwise a
throwaway cluster made with initdb in a temp dir on a free port (fsync off) and removed at the end
of the session. Without either, tests that use it are skipped locally and fail under CI=true: a
missing service is never a silent skip in CI. Tests never see each other's rows: `pg_database`
is a new empty database, `await pg_server.create_database(migrated=True)` a copy of a template
migrated once per session (procrastinate's trick), and `await pg_server.clean_database()` the
session's migrated database with every table truncated (the fastest). Only the throwaway server
can be stopped and started again (`pg_server.stop()` / `.start()`) for the outage tests.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.support.ports import free_port
from vidsvc.store.migrate import migrate_postgres

ENV_URL = "VIDSVC_TEST_DATABASE_URL"
ENV_BINDIR = "VIDSVC_TEST_PG_BINDIR"  # where initdb and pg_ctl live, if not on PATH
OS_USER = "postgres"  # initdb and postgres refuse to run as root

# Throwaway settings: durability is worth nothing in a test cluster and costs seconds.
CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
"""

KICK = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
KICK += " WHERE datname = $1 AND pid <> pg_backend_pid()"
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
TABLES += " AND tablename <> 'schema_migrations'"


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail under CI, where the service is part of the job."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but no PostgreSQL for the tests: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL for the tests: {reason}")


def with_database(dsn: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to the end from sync code, even where an event loop is running (a sync
    fixture requested by an async one): in a thread of its own, with a loop of its own."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


async def _admin(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for sql in statements:
            await conn.execute(sql)  # CREATE/DROP DATABASE: never inside a transaction block
    finally:
        await conn.close()


@dataclass
class PgServer:
    dsn: str  #: the maintenance database; tests get their own databases through create_database
    data_dir: Path | None = None  #: set only for the throwaway cluster, which we may stop
    command: Sequence[str] = ()  #: how to run a server binary as the cluster's OS user
    bindir: Path | None = None
    template: str | None = None  #: migrated once per session; create_database copies it
    shared: str | None = None  #: DSN of the database clean_database() empties and hands out
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def controllable(self) -> bool:
        return self.data_dir is not None

    def pg_ctl(self, *args: str) -> None:
        if self.data_dir is None or self.bindir is None:
            raise RuntimeError(f"an external server ({ENV_URL}) cannot be stopped or started")
        run([*self.command, str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *args])

    def stop(self) -> None:
        """Fast shutdown (sessions are disconnected), as an operator or a crash-restart would."""
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        """Start again and wait until the server accepts connections."""
        assert self.data_dir is not None
        self.pg_ctl("-w", "-t", "30", "-l", str(self.data_dir.parent / "server.log"), "start")

    async def create_database(self, *, migrated: bool = False) -> str:
        """A new empty (or migrated) database; its DSN."""
        name = f"vidsvc_test_{uuid.uuid4().hex[:16]}"
        source = await self._template() if migrated else "template0"
        await _admin(self.dsn, f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return with_database(self.dsn, name)

    async def drop_database(self, dsn: str) -> None:
        name = urlsplit(dsn).path.lstrip("/")
        await _admin(self.dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def clean_database(self) -> str:
        """The session's migrated database, emptied: faster than a new database per test (~10 ms
        against ~150 ms). Sessions a failed test left behind are cut first, so nothing blocks."""
        if self.shared is None:
            self.shared = await self.create_database(migrated=True)
        conn = await asyncpg.connect(self.shared, timeout=10)
        try:
            await conn.execute(KICK, urlsplit(self.shared).path.lstrip("/"))
            tables = await conn.fetch(TABLES)
            if tables:
                names = ", ".join(f'"{r[0]}"' for r in tables)
                await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()
        return self.shared

    async def _template(self) -> str:
        if self.template is None:
            name = f"vidsvc_tpl_{self.session}"
            await _admin(self.dsn, f'CREATE DATABASE "{name}" TEMPLATE template0')
            conn = await asyncpg.connect(with_database(self.dsn, name), timeout=10)
            try:
                await migrate_postgres(conn)
            finally:
                await conn.close()
            self.template = name
        return self.template


def run(argv: Sequence[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")


def find_bindir() -> Path | None:
    """initdb + pg_ctl: $VIDSVC_TEST_PG_BINDIR, PATH, or the newest Debian-style install."""
    candidates = [os.environ.get(ENV_BINDIR, "")]
    if found := shutil.which("initdb"):
        candidates.append(str(Path(found).resolve().parent))
    installed = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += [str(p) for p in sorted(installed, key=_version, reverse=True)]
    for c in filter(None, candidates):
        if all((Path(c) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    return None


def _version(bindir: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in bindir.parent.name.split(".") if n.isdigit())


def as_cluster_user() -> tuple[list[str], pwd.struct_passwd | None] | None:
    """The argv prefix that runs a binary as a non-root user (None: impossible here)."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(OS_USER)
    except KeyError:
        return None
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", OS_USER, "--"], user
    return None


def start_throwaway() -> PgServer:
    bindir, prefix = find_bindir(), as_cluster_user()
    if bindir is None:
        unavailable(f"initdb/pg_ctl not found; set {ENV_URL} or {ENV_BINDIR}")
    if prefix is None:
        unavailable(f"running as root without runuser and a {OS_USER!r} OS user")
    command, user = prefix
    # Not under pytest's basetemp: that is 0700 root-owned, and the cluster user must get in.
    root = Path(tempfile.mkdtemp(prefix="vidsvc-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    data = root / "data"
    server = PgServer(dsn="", data_dir=data, command=command, bindir=bindir)
    try:
        run([*command, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])  # fmt: skip
        port = free_port()
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(CONF.format(port=port, sockets=root))
        server.start()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        log = root / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"could not start a throwaway cluster: {exc}\n{tail}")
    server.dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    return server


def _remove(server: PgServer) -> None:
    if server.data_dir is None:  # an external server keeps nothing of ours
        if server.shared:
            blocking(server.drop_database(server.shared))
        if server.template:
            blocking(server.drop_database(with_database(server.dsn, server.template)))
        return
    try:
        server.pg_ctl("-m", "immediate", "-w", "stop")
    except RuntimeError:
        pass  # already stopped (an outage test that failed half-way)
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    url = os.environ.get(ENV_URL, "").strip()
    server = PgServer(dsn=url) if url else start_throwaway()
    if url:
        try:
            blocking(_admin(url, "SELECT 1"))
        except Exception as exc:  # whatever the driver says, the point is the same
            unavailable(f"{ENV_URL} is set but unusable: {type(exc).__name__}: {exc}")
    yield server
    _remove(server)


@pytest.fixture(scope="session")
def pg_dsn(pg_server: PgServer) -> str:
    """The maintenance database of the test server (create databases from it, don't write)."""
    return pg_server.dsn


@pytest.fixture
async def pg_database(pg_server: PgServer) -> AsyncIterator[str]:
    """A fresh, empty database for one test; dropped afterwards."""
    dsn = await pg_server.create_database()
    yield dsn
    await pg_server.drop_database(dsn)
