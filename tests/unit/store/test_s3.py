"""S3BlobStore and s3:// inputs against a real S3 HTTP endpoint (tests/support/s3_server.py).

Beyond the BlobStore contract: presigned URLs that download, the key prefix, multipart uploads
that never leave an incomplete upload behind (INV-4), and outages (refused, cut, black-holed)
that turn into StorageError within seconds.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError

from tests.support.s3_server import FaultProxy, S3Bucket
from vidsvc.config import Settings
from vidsvc.errors import ConfigError, InputUnavailable, InvalidClipFormat, StorageError
from vidsvc.inputs.staging import stage
from vidsvc.store import s3_client
from vidsvc.store.s3 import MULTIPART_THRESHOLD, PART_SIZE, S3BlobStore, S3Limits

KEY = "outputs/comp_abc/0123456789abcdef.mp4"
FAST = S3Limits(connect_timeout=0.5, read_timeout=0.5, attempts=1, request_timeout=1.0)


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """Over the multipart threshold: three parts."""
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(MULTIPART_THRESHOLD + 4 * 1024 * 1024))
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.mp4"
    path.write_bytes(b"first version " * 100)
    return path


@pytest.fixture
async def store(s3_bucket: S3Bucket) -> Any:
    store = await S3BlobStore.open(s3_bucket.settings())
    yield store
    await store.aclose()


def server_error(operation: str) -> ClientError:
    body = {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}
    return ClientError(body, operation)


# --- presigned URLs and the key prefix ---------------------------------------------------------


async def test_presigned_url_downloads_the_bytes(
    s3_bucket: S3Bucket, small: Path, tmp_path: Path
) -> None:
    store = await S3BlobStore.open(s3_bucket.settings(AWS_S3_BUCKET=f"{s3_bucket.name}/env/a/"))
    try:
        await store.put_file(KEY, small, content_type="video/mp4")
        assert s3_bucket.keys() == [f"env/a/{KEY}"]
        url = await store.url(KEY, expires_s=3600)
        assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            assert resp.status == 200
            assert await resp.read() == small.read_bytes()
            assert resp.headers["Content-Type"] == "video/mp4"
        await store.get_file(KEY, tmp_path / "back.mp4")
        assert (tmp_path / "back.mp4").read_bytes() == small.read_bytes()
    finally:
        await store.aclose()


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_S3_BUCKET": "Not_A_Bucket"},
        {"AWS_S3_BUCKET": "ok-bucket/../up"},
        {"AWS_S3_BUCKET": "ok-bucket", "AWS_ENDPOINT_URL": "localhost:9000"},
        {"AWS_S3_BUCKET": "ok-bucket", "AWS_ACCESS_KEY_ID": "only-the-id"},
    ],
)
async def test_open_refuses_malformed_settings(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="AWS_"):
        await S3BlobStore.open(Settings.from_env(env))


# --- multipart: round trip, failures and cancellation leave nothing behind (INV-4) -------------


async def test_multipart_round_trip(
    store: S3BlobStore, s3_bucket: S3Bucket, big: Path, tmp_path: Path
) -> None:
    await store.put_file(KEY, big, content_type="video/mp4")
    head = s3_bucket.endpoint.admin.head_object(Bucket=s3_bucket.name, Key=KEY)
    parts = -(-big.stat().st_size // PART_SIZE)
    assert head["ContentLength"] == big.stat().st_size and head["ETag"].endswith(f'-{parts}"')
    await store.get_file(KEY, tmp_path / "back.mp4")
    assert (tmp_path / "back.mp4").read_bytes() == big.read_bytes()
    assert s3_bucket.uploads() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.mp4", "big.mp4"]  # no temp


async def test_a_failed_part_aborts_the_upload(
    store: S3BlobStore,
    s3_bucket: S3Bucket,
    big: Path,
    small: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await store.put_file(KEY, small, content_type="video/mp4")
    real, first_stored = store._client.upload_part, asyncio.Event()

    async def flaky(**params: Any) -> Any:
        if params["PartNumber"] == 1:
            resp = await real(**params)
            first_stored.set()
            return resp
        await first_stored.wait()  # part 1 is stored in S3 when the others fail
        raise server_error("UploadPart")

    monkeypatch.setattr(store._client, "upload_part", flaky)
    with pytest.raises(StorageError, match="InternalError"):
        await store.put_file(KEY, big, content_type="video/mp4")
    assert first_stored.is_set()
    assert s3_bucket.uploads() == []
    await store.get_file(KEY, tmp_path / "back.mp4")  # the previous blob is untouched
    assert (tmp_path / "back.mp4").read_bytes() == small.read_bytes()


async def test_a_cancelled_upload_is_aborted(
    store: S3BlobStore, s3_bucket: S3Bucket, big: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, started = store._client.upload_part, asyncio.Event()

    async def stalls(**params: Any) -> Any:
        if params["PartNumber"] > 1:
            started.set()
            await asyncio.sleep(3600)
        return await real(**params)

    monkeypatch.setattr(store._client, "upload_part", stalls)
    task = asyncio.ensure_future(store.put_file(KEY, big, content_type="video/mp4"))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert s3_bucket.uploads() == []
    assert not await store.exists(KEY)


# --- outages: StorageError, fast, and recovery --------------------------------------------------


async def test_s3_down_is_a_fast_storage_error(
    s3_bucket: S3Bucket, dead_s3_url: str, small: Path, tmp_path: Path
) -> None:
    store = await S3BlobStore.open(s3_bucket.settings(url=dead_s3_url))
    calls: list[Awaitable[Any]] = [
        store.put_file(KEY, small, content_type="video/mp4"),
        store.get_file(KEY, tmp_path / "x.mp4"),
        store.exists(KEY),
        store.delete(KEY),
        store.ping(),
    ]
    started = time.monotonic()
    try:
        results = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await store.aclose()
    assert time.monotonic() - started < 4  # three attempts, jittered backoff ≤ 1 s then ≤ 2 s
    assert all(isinstance(r, StorageError) for r in results), results
    assert not (tmp_path / "x.mp4").exists()


async def test_the_client_recovers_after_an_outage(
    s3_bucket: S3Bucket, s3_proxy: FaultProxy, small: Path
) -> None:
    store = await S3BlobStore.open(s3_bucket.settings(url=s3_proxy.url))
    try:
        await store.put_file(KEY, small, content_type="video/mp4")
        await s3_proxy.down()  # pooled connections are cut too
        with pytest.raises(StorageError):
            await store.exists(KEY)
        await s3_proxy.up()
        assert await store.exists(KEY)
        await store.ping()
    finally:
        await store.aclose()


async def test_a_black_hole_is_cut_by_the_deadline(
    s3_bucket: S3Bucket, s3_proxy: FaultProxy, small: Path
) -> None:
    store = await S3BlobStore.open(s3_bucket.settings(url=s3_proxy.url), limits=FAST)
    s3_proxy.blackhole = True
    started = time.monotonic()
    try:
        with pytest.raises(StorageError):
            await store.put_file(KEY, small, content_type="video/mp4")
        with pytest.raises(StorageError):
            await store.ping()
    finally:
        await store.aclose()
    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (404, "NoSuchKey", KeyError),
        (404, "NoSuchBucket", KeyError),
        (403, "AccessDenied", PermissionError),
        (503, "SlowDown", StorageError),
        (400, "InvalidRequest", StorageError),
    ],
)
def test_input_errors_are_classified(status: int, code: str, raised: type[Exception]) -> None:
    body = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    with pytest.raises(raised), s3_client.storage_errors("download", "k", inputs=True):
        raise ClientError(body, "GetObject")


# --- s3:// inputs -----------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "job"
    path.mkdir()
    return path


async def test_s3_inputs_are_staged_with_progress(s3_bucket: S3Bucket, workdir: Path) -> None:
    clip, music = os.urandom(3 * 1024 * 1024 + 5), os.urandom(1000)
    s3_bucket.put("clips/a b%20c.mp4", clip)
    s3_bucket.put("music.mp3", music)
    urls = [f"s3://{s3_bucket.name}/clips/a b%20c.mp4", f"s3://{s3_bucket.name}/music.mp3"]
    seen: list[tuple[int, int | None]] = []
    staged = await stage(urls, workdir, s3_bucket.settings(), on_bytes=lambda *a: seen.append(a))
    assert staged == {urls[0]: workdir / "in0.mp4", urls[1]: workdir / "in1.mp3"}
    assert staged[urls[0]].read_bytes() == clip and staged[urls[1]].read_bytes() == music
    assert seen[-1] == (len(clip) + len(music), len(clip) + len(music))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) > 3
    assert sorted(p.name for p in workdir.iterdir()) == ["in0.mp4", "in1.mp3"]


async def test_a_missing_s3_input_is_unavailable(s3_bucket: S3Bucket, workdir: Path) -> None:
    with pytest.raises(InputUnavailable, match="no object") as err:
        await stage(
            [f"s3://{s3_bucket.name}/none.mp4"],
            workdir,
            s3_bucket.settings(),
            fields={f"s3://{s3_bucket.name}/none.mp4": "clips[0].url"},
        )
    assert err.value.details == {"field": "clips[0].url"}
    assert list(workdir.iterdir()) == []


async def test_an_s3_input_over_the_cap_is_refused(s3_bucket: S3Bucket, workdir: Path) -> None:
    s3_bucket.put("big.mp4", b"x" * 5000)
    settings = s3_bucket.settings(MAX_INPUT_BYTES="4999")
    with pytest.raises(InvalidClipFormat, match="too large"):
        await stage([f"s3://{s3_bucket.name}/big.mp4"], workdir, settings)
    assert list(workdir.iterdir()) == []


async def test_a_bucket_not_allowed_is_refused_before_any_request(
    s3_bucket: S3Bucket, dead_s3_url: str, workdir: Path
) -> None:
    settings = s3_bucket.settings(url=dead_s3_url, ALLOWED_S3_BUCKETS="other-bucket")
    with pytest.raises(InvalidClipFormat, match="ALLOWED_S3_BUCKETS"):
        await stage([f"s3://{s3_bucket.name}/a.mp4"], workdir, settings)


async def test_an_s3_input_with_s3_down_is_a_storage_error(
    s3_bucket: S3Bucket, dead_s3_url: str, workdir: Path
) -> None:
    with pytest.raises(StorageError):
        await stage([f"s3://{s3_bucket.name}/a.mp4"], workdir, s3_bucket.settings(url=dead_s3_url))
    assert list(workdir.iterdir()) == []


async def test_a_stalled_s3_input_times_out(
    s3_bucket: S3Bucket, s3_proxy: FaultProxy, workdir: Path
) -> None:
    s3_proxy.blackhole = True
    settings = s3_bucket.settings(url=s3_proxy.url, DOWNLOAD_TIMEOUT="1")
    with pytest.raises(InputUnavailable, match="timed out after 1 s"):
        await stage([f"s3://{s3_bucket.name}/a.mp4"], workdir, settings)
    assert list(workdir.iterdir()) == []
