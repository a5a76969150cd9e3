"""RELIABILITY.md D9: the output disk or the temp dir fills up mid-job.

Real ENOSPC, not a fake: each test mounts a small tmpfs (root and CAP_SYS_ADMIN, as on the
development machines and CI; without them the case is skipped locally and fails under CI=true).
Pinned mapping: FFmpeg failing to write its output in TMP_DIR is PROCESSING_FAILED (the render
itself failed); the blob store failing to store the finished file is STORAGE_ERROR (after the
store retries, on the job's last attempt). Either way nothing partial is left behind and the
next job runs once space is free.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.media import make_video
from vidsvc.config import Settings
from vidsvc.jobs import Job, JobKind, JobState, new_job_id, utcnow
from vidsvc.runner import execute, lifecycle
from vidsvc.store import Stores
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryJobStore
from vidsvc.work.kinds import handlers

pytestmark = [pytest.mark.D, pytest.mark.ffmpeg]


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs file systems under tmp_path; unmounted afterwards."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            reason = f"cannot mount a tmpfs here: {done.stderr.strip()}"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Noise compresses badly (its 720p render is megabytes); a flat colour hardly at all."""
    d = tmp_path_factory.mktemp("d9")
    noisy = make_video(d / "noise.mp4", size="640x360", seconds=2, tone=None,
                       extra=("-vf", "noise=alls=100:allf=t+u"))  # fmt: skip
    calm = make_video(d / "calm.mp4", source="color=c=teal", seconds=1, tone=None)
    return {"big": noisy, "small": calm}


def _job(clip: Path, *, resolution: str) -> Job:
    now = utcnow()
    payload = {"clips": [{"url": clip.as_uri()}], "output": {"resolution": resolution}}
    return Job(id=new_job_id(), kind=JobKind.COMPOSITION, state=JobState.QUEUED,
               payload=payload, created_at=now, updated_at=now, max_attempts=1)  # fmt: skip


async def _run(stores: Stores, settings: Settings, job: Job) -> Job:
    await stores.jobs.create(job)
    claimed = await stores.jobs.claim(job.id, owner="w", lease_s=30)
    assert claimed is not None
    deps = lifecycle.Deps(settings=settings, stores=stores, instance_id="w")
    await execute.execute(claimed, deps, lifecycle.Control(), handlers())
    final = await stores.jobs.get(job.id)
    assert final is not None
    return final


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _stores(blob_root: Path) -> Stores:
    return Stores(jobs=MemoryJobStore(), blobs=LocalBlobStore(blob_root),
                  pubsub=MemoryPubSub(), backlog=MemoryBacklog())  # fmt: skip


async def test_d9_temp_dir_full_fails_the_render_cleanly_and_the_next_job_runs(
    tiny_fs: Callable[[str], Path],
    make_settings: Callable[..., Settings],
    clips: dict[str, Path],
    tmp_path: Path,
) -> None:
    """D9, temp side: FFmpeg hits ENOSPC writing its output in TMP_DIR → the job fails
    PROCESSING_FAILED, the scratch dir is gone (the tmpfs is empty again) and a job that fits
    completes right after on the same file system."""
    scratch = tiny_fs("512k")
    settings = make_settings(TMP_DIR=str(scratch), ENABLE_RENDER_CACHE="false")
    stores = _stores(tmp_path / "blobs")

    big = await _run(stores, settings, _job(clips["big"], resolution="720p"))
    assert big.state is JobState.FAILED
    assert big.error is not None and big.error.code == "PROCESSING_FAILED", big.error
    assert _files(scratch) == []  # the partial output went with the job's workspace

    small = await _run(stores, settings, _job(clips["small"], resolution="180p"))
    assert small.state is JobState.COMPLETED, small.error
    assert _files(scratch) == []


async def test_d9_output_disk_full_is_a_storage_error_with_no_partial_blob(
    tiny_fs: Callable[[str], Path],
    make_settings: Callable[..., Settings],
    clips: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D9, output side: the local blob store hits ENOSPC storing the video → StorageError,
    retried, then on the job's last attempt the job fails STORAGE_ERROR; no partial blob or
    `.part` temp file stays in the blob directory, and a job that fits is stored after."""
    monkeypatch.setattr(lifecycle, "RETRIES", 2)  # a full disk stays full; keep the test short
    blobs = tiny_fs("512k")
    settings = make_settings(ENABLE_RENDER_CACHE="false")
    stores = _stores(blobs)

    big = await _run(stores, settings, _job(clips["big"], resolution="720p"))
    assert big.state is JobState.FAILED
    assert big.error is not None and big.error.code == "STORAGE_ERROR", big.error
    assert _files(blobs) == []

    small = await _run(stores, settings, _job(clips["small"], resolution="180p"))
    assert small.state is JobState.COMPLETED, small.error
    assert {p.suffix for p in _files(blobs)} == {".mp4", ".jpg"}
