"""GET …/download: 409 until completed, then 302 to a presigned URL or a signed local link."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from tests.support.http_app import Client, FakeRunner, assert_envelope, submit
from vidsvc.http.keys import SIGNER_KEY
from vidsvc.http.signing import KEY_FILE, Signer, load_key

VIDEO = bytes(range(256)) * 40  # 10 KiB of something that is not all zeros


@pytest.fixture
async def done(client: Client, fake: FakeRunner, tmp_path: Path) -> str:
    video, thumb = tmp_path / "out.mp4", tmp_path / "out.jpg"
    video.write_bytes(VIDEO)
    thumb.write_bytes(b"\xff\xd8jpeg")
    job_id: str = (await submit(client))["composition_id"]
    fake.complete(job_id, video, thumb)
    return job_id


async def location(client: Client, job_id: str, query: str = "") -> URL:
    resp = await client.get(
        f"/api/v1/compositions/{job_id}/download{query}", allow_redirects=False
    )
    assert resp.status == 302, await resp.text()
    return URL(resp.headers["Location"])


async def test_not_completed_is_409(client: Client, fake: FakeRunner) -> None:
    job_id = (await submit(client))["composition_id"]
    for state_change in [None, "processing"]:
        if state_change:
            fake.advance(job_id, percentage=50)
        resp = await client.get(f"/api/v1/compositions/{job_id}/download")
        body = await resp.json()
        assert resp.status == 409
        assert_envelope(body, "COMPOSITION_NOT_READY")
        assert body["error"]["details"]["status"] in ("queued", "processing")


async def test_local_redirect_is_signed_and_serves_the_file(client: Client, done: str) -> None:
    url = await location(client, done)
    assert not url.is_absolute() and url.path.startswith("/files/outputs/")
    assert set(url.query) == {"expires", "signature"}
    assert int(url.query["expires"]) > time.time() + 3000  # DOWNLOAD_URL_TTL, 1 h
    resp = await client.get(url.path_qs)
    assert resp.status == 200 and await resp.read() == VIDEO
    assert resp.headers["X-Request-ID"]


async def test_redirect_is_absolute_under_public_base_url(
    app_client: Any, fake: FakeRunner, tmp_path: Path
) -> None:
    client = await app_client(PUBLIC_BASE_URL="https://media.example.com/vidsvc")
    job_id = (await submit(client))["composition_id"]
    fake.complete(job_id, tmp_path / "v.mp4", tmp_path / "t.jpg")
    url = await location(client, job_id)
    assert str(url).startswith("https://media.example.com/vidsvc/files/outputs/")


async def test_range_requests_get_206(client: Client, done: str) -> None:
    url = await location(client, done)
    resp = await client.get(url.path_qs, headers={"Range": "bytes=0-99"})
    assert resp.status == 206
    assert await resp.read() == VIDEO[:100]
    assert resp.headers["Content-Range"] == f"bytes 0-99/{len(VIDEO)}"


async def test_thumbnail(client: Client, done: str) -> None:
    url = await location(client, done, "?file=thumbnail")
    assert url.path.endswith(".jpg")
    assert await (await client.get(url.path_qs)).read() == b"\xff\xd8jpeg"


async def test_unknown_file_kind_is_400(client: Client, done: str) -> None:
    resp = await client.get(f"/api/v1/compositions/{done}/download?file=passwd")
    assert resp.status == 400
    assert (await resp.json())["error"]["details"]["field"] == "file"


async def test_presigned_url_when_the_store_has_one(
    client: Client, fake: FakeRunner, done: str
) -> None:
    fake.presigned = True
    url = await location(client, done)
    assert str(url).startswith("https://bucket.s3.example/outputs/")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: {**q, "signature": "0" * 64},
        lambda q: {**q, "expires": str(int(q["expires"]) + 1)},
        lambda q: {"expires": q["expires"]},
        lambda q: {},
        lambda q: {**q, "expires": "-1"},
    ],
)
async def test_bad_signatures_are_403(client: Client, done: str, tamper: Any) -> None:
    url = await location(client, done)
    resp = await client.get(url.path, params=tamper(dict(url.query)))
    assert resp.status == 403
    assert_envelope(await resp.json(), "FORBIDDEN")


async def test_a_signature_does_not_open_another_key(client: Client, done: str) -> None:
    url = await location(client, done)
    other = url.path.replace(".mp4", ".jpg")
    resp = await client.get(other, params=dict(url.query))
    assert resp.status == 403


async def test_expired_links_are_403(client: Client, done: str, fake: FakeRunner) -> None:
    signer = client.app[SIGNER_KEY]
    key = fake.jobs[done].output_key
    assert key is not None
    query = signer.query(key, -10)
    resp = await client.get(f"/files/{key}", params=query)
    body = await resp.json()
    assert resp.status == 403 and "expired" in body["error"]["message"]


async def test_a_signed_but_missing_file_is_404(client: Client) -> None:
    signer = client.app[SIGNER_KEY]
    resp = await client.get("/files/outputs/gone.mp4", params=signer.query("outputs/gone.mp4", 60))
    assert resp.status == 404
    assert_envelope(await resp.json(), "NOT_FOUND")
    # Even a validly signed key that escapes the blob root is just missing (the store refuses it).
    key = "outputs/../../etc/passwd"
    url = URL("/files/outputs/..%2F..%2Fetc%2Fpasswd", encoded=True)
    resp = await client.get(url.with_query(signer.query(key, 60)))
    assert resp.status == 404
    assert_envelope(await resp.json(), "NOT_FOUND")


def test_the_generated_key_is_kept_private_and_reused(http_settings: Any) -> None:
    settings = http_settings()
    first = load_key(settings)
    path = settings.data_dir / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_key(settings) == first and len(first) >= 32
    assert load_key(http_settings(SIGNING_KEY="configured")) == b"configured"


def test_signer_round_trip() -> None:
    signer = Signer(b"k" * 32)
    query = signer.query("a/b.mp4", 60)
    signer.check("a/b.mp4", query["expires"], query["signature"])
    assert Signer(b"x" * 32).query("a/b.mp4", 60)["signature"] != query["signature"]
