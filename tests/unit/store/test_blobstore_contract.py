"""The BlobStore contract (store/base.py), run against every implementation in conftest.blobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vidsvc.store.base import BlobStore
from vidsvc.store.disk import LocalBlobStore

KEY = "outputs/comp_abc/0123456789abcdef.mp4"

BAD_KEYS = [
    "",
    "../escape.mp4",
    "outputs/../../escape.mp4",
    "outputs/..",
    "/etc/passwd",
    "outputs\\..\\x.mp4",
    "a\x00b.mp4",
    "a\nb.mp4",
    "outputs//x.mp4",
    "./x.mp4",
    "outputs/./x.mp4",
    "outputs/",
    "x" * 1025,
]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "render.mp4"
    path.parent.mkdir()
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096))
    return path


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_put_get_exists_delete(blobs: BlobStore, source: Path, tmp_path: Path) -> None:
    assert not await blobs.exists(KEY)
    await blobs.put_file(KEY, source, content_type="video/mp4")
    assert await blobs.exists(KEY)
    dest = tmp_path / "back.mp4"
    await blobs.get_file(KEY, dest)
    assert dest.read_bytes() == source.read_bytes()
    await blobs.delete(KEY)
    assert not await blobs.exists(KEY)
    await blobs.delete(KEY)  # missing: not an error


async def test_copy_is_independent_of_its_source(
    blobs: BlobStore, source: Path, tmp_path: Path
) -> None:
    copied = "outputs/comp_other/fedcba9876543210.mp4"
    await blobs.put_file(KEY, source, content_type="video/mp4")
    await blobs.copy(KEY, copied)
    dest = tmp_path / "back.mp4"
    await blobs.get_file(copied, dest)
    assert dest.read_bytes() == source.read_bytes()
    other = tmp_path / "other.mp4"
    other.write_bytes(b"replaced")
    await blobs.put_file(KEY, other, content_type="video/mp4")  # overwriting the source…
    await blobs.get_file(copied, dest)
    assert dest.read_bytes() == source.read_bytes()  # …leaves the copy as it was
    await blobs.delete(KEY)  # and so does deleting it
    assert await blobs.exists(copied) and not await blobs.exists(KEY)
    await blobs.get_file(copied, dest)
    assert dest.read_bytes() == source.read_bytes()
    await blobs.copy(copied, copied)  # onto itself: nothing lost
    await blobs.get_file(copied, dest)
    assert dest.read_bytes() == source.read_bytes()


async def test_copy_of_a_missing_blob_is_key_error(blobs: BlobStore, source: Path) -> None:
    with pytest.raises(KeyError):
        await blobs.copy("outputs/none.mp4", KEY)
    assert not await blobs.exists(KEY)
    await blobs.put_file(KEY, source, content_type="video/mp4")
    with pytest.raises(KeyError):
        await blobs.copy("outputs", "outputs/x.mp4")  # a prefix is not a blob


@pytest.mark.parametrize("key", BAD_KEYS[:6])
async def test_copy_confines_both_keys(blobs: BlobStore, key: str, source: Path) -> None:
    await blobs.put_file(KEY, source, content_type="video/mp4")
    with pytest.raises(ValueError):
        await blobs.copy(KEY, key)
    with pytest.raises(ValueError):
        await blobs.copy(key, "outputs/x.mp4")


async def test_get_missing_is_key_error(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        await blobs.get_file("outputs/none.mp4", tmp_path / "x")
    with pytest.raises(KeyError):
        await blobs.get_file("outputs", tmp_path / "x")  # a prefix is not a blob


async def test_put_copies_and_overwrites(blobs: BlobStore, source: Path, tmp_path: Path) -> None:
    await blobs.put_file(KEY, source, content_type="video/mp4")
    assert source.exists()  # copied, not moved: the caller deletes its own temp dir
    source.write_bytes(b"second version")
    dest = tmp_path / "back.mp4"
    await blobs.get_file(KEY, dest)
    assert dest.read_bytes() != b"second version"  # the stored blob is independent of source
    await blobs.put_file(KEY, source, content_type="video/mp4")
    await blobs.get_file(KEY, dest)
    assert dest.read_bytes() == b"second version"


async def test_failed_put_keeps_the_previous_blob(
    blobs: BlobStore, source: Path, tmp_path: Path
) -> None:
    await blobs.put_file(KEY, source, content_type="video/mp4")
    with pytest.raises(FileNotFoundError):
        await blobs.put_file(KEY, tmp_path / "missing.mp4", content_type="video/mp4")
    dest = tmp_path / "back.mp4"
    await blobs.get_file(KEY, dest)
    assert dest.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_key_confinement(blobs: BlobStore, key: str, source: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        await blobs.put_file(key, source, content_type="video/mp4")
    with pytest.raises(ValueError):
        await blobs.get_file(key, tmp_path / "x")
    with pytest.raises(ValueError):
        await blobs.exists(key)
    with pytest.raises(ValueError):
        await blobs.delete(key)
    with pytest.raises(ValueError):
        blobs.local_path(key)
    with pytest.raises(ValueError):
        await blobs.url(key, expires_s=60)


async def test_local_path_and_url(blobs: BlobStore, source: Path) -> None:
    assert blobs.local_path(KEY) is None  # missing
    await blobs.put_file(KEY, source, content_type="video/mp4")
    path = blobs.local_path(KEY)
    if isinstance(blobs, LocalBlobStore):
        assert path is not None and path.read_bytes() == source.read_bytes()
        assert await blobs.url(KEY, expires_s=60) is None  # the app serves local files
    else:
        assert path is None
    await blobs.ping()


# --- local disk: atomicity and confinement through the file system ----------------------------


async def test_disk_put_leaves_no_temp_files(tmp_path: Path, source: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    for n in range(3):
        await store.put_file(f"outputs/comp_a/{n}.mp4", source, content_type="video/mp4")
    await store.put_file("outputs/comp_a/0.mp4", source, content_type="video/mp4")
    assert files_under(store.root) == [f"outputs/comp_a/{n}.mp4" for n in range(3)]


async def test_disk_allows_symlinks_that_stay_inside(tmp_path: Path, source: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    (store.root / "real").mkdir()
    (store.root / "alias").symlink_to(store.root / "real", target_is_directory=True)
    await store.put_file("alias/x.mp4", source, content_type="video/mp4")
    assert (store.root / "real" / "x.mp4").read_bytes() == source.read_bytes()


async def test_disk_root_through_a_symlink(tmp_path: Path, source: Path) -> None:
    (tmp_path / "real-data").mkdir()
    (tmp_path / "data").symlink_to(tmp_path / "real-data", target_is_directory=True)
    store = LocalBlobStore(tmp_path / "data" / "blobs")
    await store.put_file(KEY, source, content_type="video/mp4")
    assert store.local_path(KEY) == (tmp_path / "real-data" / "blobs" / KEY)


async def test_disk_copy_is_a_hard_link_and_leaves_no_temp_files(
    tmp_path: Path, source: Path
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    await store.put_file(KEY, source, content_type="video/mp4")
    await store.copy(KEY, "outputs/comp_b/1.mp4")
    first, second = store.local_path(KEY), store.local_path("outputs/comp_b/1.mp4")
    assert first is not None and second is not None
    assert first.stat().st_ino == second.stat().st_ino  # no bytes copied
    assert files_under(store.root) == sorted([KEY, "outputs/comp_b/1.mp4"])


# --- S3: objects over CopyObject's limit are copied in parts ----------------------------------


async def test_s3_copy_in_parts(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidsvc.store import s3

    monkeypatch.setattr(s3, "COPY_THRESHOLD", 1)  # every object takes the multipart path
    monkeypatch.setattr(s3, "COPY_PART_SIZE", 5 << 20)  # S3's smallest part
    store = await s3.S3BlobStore.open(request.getfixturevalue("s3_bucket").settings())
    try:
        big = tmp_path / "big.mp4"
        big.write_bytes(os.urandom((11 << 20) + 3))  # three parts, the last a short one
        await store.put_file(KEY, big, content_type="video/mp4")
        await store.copy(KEY, "outputs/comp_b/1.mp4")
        back = tmp_path / "back.mp4"
        await store.get_file("outputs/comp_b/1.mp4", back)
        assert back.read_bytes() == big.read_bytes()
        with pytest.raises(KeyError):
            await store.copy("outputs/none.mp4", "outputs/comp_b/2.mp4")
        assert not await store.exists("outputs/comp_b/2.mp4")
    finally:
        await store.aclose()
