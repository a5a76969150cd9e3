"""A real S3 endpoint for tests: VIDSVC_TEST_S3_URL when set, else moto's server on 127.0.0.1.

A pytest plugin (tests/conftest.py lists it in pytest_plugins). Fixtures:
- s3_endpoint (session): the endpoint with its credentials; skips when moto cannot start,
  fails under CI=true;
- s3_bucket: a fresh bucket per test (emptied and removed afterwards), `.settings()` for it;
- s3_proxy: a TCP proxy in front of the endpoint that a test takes down or black-holes;
- dead_s3_url: an http URL on a 127.0.0.1 port where nothing listens.
VIDSVC_TEST_S3_URL may carry credentials (http://KEY:SECRET@host:port); otherwise dummy ones are
used. They go into the Settings built here, never into os.environ.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.ports import free_port
from vidsvc.config import Settings

_DUMMY = "testing"


@dataclass
class S3Endpoint:
    url: str
    access_key: str = _DUMMY
    secret_key: str = _DUMMY
    region: str = "us-east-1"
    admin: Any = field(default=None, repr=False)  #: a boto3 S3 client for setup and checks

    def env(self, url: str | None = None) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": url or self.url,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }


@dataclass
class S3Bucket:
    endpoint: S3Endpoint
    name: str

    def env(self, *, url: str | None = None, **extra: str) -> dict[str, str]:
        """Variables for a store on this bucket (also the one s3:// inputs may name)."""
        base = {"AWS_S3_BUCKET": self.name, "ALLOWED_S3_BUCKETS": self.name}
        return self.endpoint.env(url) | base | extra

    def settings(self, *, url: str | None = None, **extra: str) -> Settings:
        """Settings for this bucket; `url` replaces the endpoint (a proxy, a dead port)."""
        return Settings.from_env(self.env(url=url, **extra))

    def put(self, key: str, data: bytes) -> None:
        self.endpoint.admin.put_object(Bucket=self.name, Key=key, Body=data)

    def get(self, key: str) -> bytes:
        return bytes(self.endpoint.admin.get_object(Bucket=self.name, Key=key)["Body"].read())

    def keys(self) -> list[str]:
        listed = self.endpoint.admin.list_objects_v2(Bucket=self.name)
        return sorted(obj["Key"] for obj in listed.get("Contents", []))

    def uploads(self) -> list[dict[str, Any]]:
        """Multipart uploads started and neither completed nor aborted."""
        return list(
            self.endpoint.admin.list_multipart_uploads(Bucket=self.name).get("Uploads", [])
        )


def _admin(endpoint: S3Endpoint) -> Any:
    import boto3  # moto's dependency; sync is simplest for setup and checks
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )


def _external(url: str) -> S3Endpoint:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return S3Endpoint(
        url=f"{parts.scheme}://{netloc}",
        access_key=parts.username or _DUMMY,
        secret_key=parts.password or _DUMMY,
    )


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but no S3 endpoint: {reason}")
    pytest.skip(f"no S3 endpoint: {reason}")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    external = os.environ.get("VIDSVC_TEST_S3_URL", "")
    server = None
    if external:
        endpoint = _external(external)
    else:
        try:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
        except Exception as exc:  # ImportError, a port or thread problem
            _unavailable(f"moto's server cannot start ({exc!r})")
        host, port = server.get_host_and_port()
        endpoint = S3Endpoint(url=f"http://{host}:{port}")
    endpoint.admin = _admin(endpoint)
    try:
        yield endpoint
    finally:
        endpoint.admin.close()
        if server is not None:
            server.stop()
            server._server.server_close()  # stop() leaves the listening socket open


def _empty(bucket: S3Bucket) -> None:
    admin = bucket.endpoint.admin
    for upload in bucket.uploads():
        admin.abort_multipart_upload(
            Bucket=bucket.name, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    for key in bucket.keys():
        admin.delete_object(Bucket=bucket.name, Key=key)
    admin.delete_bucket(Bucket=bucket.name)


@pytest.fixture
def s3_bucket(s3_endpoint: S3Endpoint) -> Iterator[S3Bucket]:
    """A new, empty bucket; synchronous so that async fixtures may getfixturevalue() it."""
    bucket = S3Bucket(s3_endpoint, f"vidsvc-test-{uuid.uuid4().hex[:16]}")
    s3_endpoint.admin.create_bucket(Bucket=bucket.name)
    yield bucket
    _empty(bucket)


class FaultProxy:
    """TCP proxy on 127.0.0.1 in front of the S3 endpoint: `down()` closes the listener and cuts
    every connection (refused from then on), `up()` listens again on the same port, and
    `blackhole = True` swallows requests without ever answering (a stalled S3)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._server: asyncio.Server | None = None
        self._port = 0
        self._live: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.blackhole = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._live):
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1 << 16):
            if not self.blackhole:
                writer.write(data)
                await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        ends = [writer]
        pumps: list[asyncio.Task[None]] = []
        self._live.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
            ends.append(up_writer)
            self._live.add(up_writer)
            pumps = [
                asyncio.ensure_future(self._pump(reader, up_writer)),
                asyncio.ensure_future(self._pump(up_reader, writer)),
            ]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except OSError:
            pass
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for end in ends:
                self._live.discard(end)
                end.transport.abort()
            self._tasks.discard(task)


@pytest.fixture
async def s3_proxy(s3_endpoint: S3Endpoint) -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy(s3_endpoint.url)
    await proxy.up()
    yield proxy
    await proxy.down()


@pytest.fixture
def dead_s3_url() -> str:
    """An endpoint where nothing listens: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"
