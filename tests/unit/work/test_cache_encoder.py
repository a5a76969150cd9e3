"""The render cache and the encoder (vidsvc/work/compositions/cache.py): NVENC and libx264
renders never share an entry, and a render NVENC gave up on is recorded under the key of the
libx264 command that made it. Real renders through execute() with the stand-in FFmpeg
(tests/support/fakes/nvenc_ffmpeg.py) as FFMPEG_BIN for every job, so its argv log counts every
run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.jobs import execute_composition
from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.jobs import Job, JobState
from vidsvc.media.load import Load
from vidsvc.media.workspace import workspace
from vidsvc.runner.reporter import Reporter
from vidsvc.schema import parse_composition
from vidsvc.store import Stores
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryJobStore
from vidsvc.work.compositions import cache
from vidsvc.work.compositions.render import prepare

pytestmark = pytest.mark.ffmpeg
NVENC_FFMPEG = FAKE_FFMPEG.with_name("nvenc_ffmpeg.py")
Run = Callable[[Settings], Awaitable[Job]]


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "argv.jsonl"
    monkeypatch.setenv("NVENC_ARGVFILE", str(path))
    return path


def renders(log: Path) -> list[list[str]]:
    """The FFmpeg renders so far (not -version, not the start-up check)."""
    runs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [argv for argv in runs if "-progress" in argv]


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    blobs = LocalBlobStore(tmp_path / "blobs")
    return Stores(
        jobs=MemoryJobStore(), blobs=blobs, pubsub=MemoryPubSub(), backlog=MemoryBacklog()
    )


def document(media: dict[str, Path]) -> dict[str, Any]:
    return {
        "clips": [{"url": media["a"].as_uri(), "trim_end": 1.0}],
        "output": {"resolution": "180p", "fps": 10, "crf": 25},
    }


@pytest.fixture
def run(stores: Stores, media: dict[str, Path]) -> Run:
    """One composition, the same every time, executed once with `settings`."""
    doc = document(media)

    async def go(settings: Settings) -> Job:
        final = await execute_composition(doc, settings, stores)
        assert final is not None and final.state is JobState.COMPLETED, final
        return final

    return go


@pytest.fixture
def cpu(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(FFMPEG_BIN=str(NVENC_FFMPEG))


@pytest.fixture
def gpu(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(FFMPEG_BIN=str(NVENC_FFMPEG), ENABLE_GPU_ENCODING="true")


def encoder(job: Job) -> str:
    command: list[str] = job.metadata["command"]
    return command[command.index("-c:v") + 1]


async def test_nvenc_and_libx264_renders_never_share_an_entry(
    run: Run, cpu: Settings, gpu: Settings, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NVENC_MODE", "ok")
    on_cpu = await run(cpu)
    on_gpu = await run(gpu)
    assert [encoder(on_cpu), encoder(on_gpu)] == ["libx264", "h264_nvenc"]
    assert len(renders(log)) == 2, "the NVENC render was served from the libx264 one"
    assert on_gpu.metadata["cache"] == {"hit": False, "key": on_gpu.metadata["cache"]["key"]}
    assert on_gpu.metadata["cache"]["key"] != on_cpu.metadata["cache"]["key"]
    again = await run(gpu)  # each encoder's entry serves its own kind
    assert len(renders(log)) == 2 and again.metadata["cache"]["source_composition_id"] == on_gpu.id
    assert encoder(again) == "h264_nvenc"


async def test_a_render_nvenc_gave_up_on_is_recorded_under_the_libx264_key(
    run: Run,
    cpu: Settings,
    gpu: Settings,
    log: Path,
    stores: Stores,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NVENC_MODE", "busy")  # every render's NVENC session fails
    fell_back = await run(gpu)
    assert [("h264_nvenc" in argv) for argv in renders(log)] == [True, False]
    assert encoder(fell_back) == "libx264"
    key = fell_back.metadata["cache"]["key"]
    assert fell_back.metadata["cache"] == {"hit": False, "key": key}

    # A CPU-only instance asks for exactly that entry and gets those bytes without FFmpeg.
    served = await run(cpu)
    assert len(renders(log)) == 2, "a CPU render of the same composition missed"
    assert served.metadata["cache"] == {
        "hit": True,
        "source_composition_id": fell_back.id,
        "key": key,
    }
    assert isinstance(stores.blobs, LocalBlobStore)
    paths = [stores.blobs.local_path(j.output_key or "") for j in (fell_back, served)]
    assert paths[0] and paths[1] and paths[0].read_bytes() == paths[1].read_bytes()

    # An NVENC render, once the card has a session, does not get the libx264 file.
    monkeypatch.setenv("NVENC_MODE", "ok")
    on_gpu = await run(gpu)
    assert len(renders(log)) == 3 and encoder(on_gpu) == "h264_nvenc"
    assert on_gpu.metadata["cache"]["hit"] is False and on_gpu.metadata["cache"]["key"] != key


async def test_the_recorded_key_is_that_of_the_command_that_ran(
    gpu: Settings, media: dict[str, Path]
) -> None:
    comp = parse_composition(document(media))
    async with workspace(gpu, "key") as work:
        prepared = await prepare(comp, gpu, work, Reporter(None), load=Load())
        miss = cache.Miss(key=await cache.render_key(comp, prepared, gpu))
        ran = prepared.command.argv
        assert await cache.as_encoded(miss, comp, prepared, ran, gpu) is miss
        cpu = prepared.on_cpu()
        as_cpu = await cache.as_encoded(miss, comp, prepared, cpu.argv, gpu)
        cpu_key = await cache.render_key(comp, dataclasses.replace(prepared, command=cpu), gpu)
        assert as_cpu.key == cpu_key != miss.key
        other = (*cpu.argv[:-1], "elsewhere.jpg")  # neither command: nothing to vouch for it
        assert (await cache.as_encoded(miss, comp, prepared, other, gpu)).key is None
        off = cache.Miss(key=None, bypass="disabled")
        assert await cache.as_encoded(off, comp, prepared, cpu.argv, gpu) is off
