"""A split render through the service in process (one instance, SPLIT_MIN_INSTANCES=1; the
two-instance cases are tests/acceptance/reliability/test_split_instances.py): when it splits
at all (SPLIT_RENDERS, its length, its shape, its attempt), and a part whose stored file is
lost (rendered again by the join) or whose upload fails (the composition falls back to one
pass).

The one fault injected is a blob store that loses a part's file (it acknowledges the upload
and keeps nothing: the join renders that part again) or fails its upload (the part fails: the
composition renders in one pass); everything else is the real runner, SQLite, the disk store
and FFmpeg.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.compare import frame_count
from tests.support.media import make_render_ready
from tests.support.split_doc import long_document
from vidsvc.config import Settings
from vidsvc.jobs import Job, JobKind, JobState, Stage
from vidsvc.runner.service import Runner
from vidsvc.store import open_stores
from vidsvc.store.base import BlobStore
from vidsvc.work.kinds import handlers

pytestmark = pytest.mark.ffmpeg
PART = JobKind.PART
During = Callable[[Runner, Job], Awaitable[None]]  #: run beside the render, awaited at its end


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return long_document(tmp_path_factory.mktemp("split-service"))


class LosingParts:
    """A blob store that loses part 1's file: says it stored it and kept nothing (`lose`), or
    fails the upload outright (`fail`: a disk full under the store)."""

    def __init__(self, inner: BlobStore, how: str) -> None:
        self.inner, self.how = inner, how
        self.lost: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        if key.startswith("parts/") and key.endswith("part1.mp4"):
            self.lost.append(key)
            if self.how == "fail":
                raise OSError(28, "No space left on device")
            return
        await self.inner.put_file(key, path, content_type=content_type)


@dataclasses.dataclass
class Ran:
    row: Job
    parts: list[Job]
    frames: int  #: of the stored output
    part_files: list[str]  #: the parts' files left in the blob store
    ended: dict[str, float]  #: vidsvc_split_renders_total by outcome
    renditions: list[Path] = dataclasses.field(default_factory=list)  #: every one's file


@pytest.fixture
async def service(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """run(document, blobs=wrapper, **env): the document through a started Runner; its row."""
    opened: list[Runner] = []

    async def run(
        document: dict[str, Any], wrap: Any = None, during: During | None = None, **env: str
    ) -> Ran:
        split = {
            "DATA_DIR": str(tmp_path / "data"),
            "SPLIT_MIN_INSTANCES": "1",
            "SPLIT_MIN_SECONDS": "20",
            "CHUNK_SECONDS": "20",
            "MAX_CONCURRENT_JOBS": "2",
        }
        settings = make_settings(**(split | env))
        stack = open_stores(settings)
        stores = await stack.__aenter__()
        if wrap is not None:
            stores = dataclasses.replace(stores, blobs=wrap(stores.blobs))
        runner = Runner(settings, stores, handlers())
        opened.append(runner)
        runner.pool.start()
        try:
            job, _ = await runner.submit(JobKind.COMPOSITION, document)
            beside = asyncio.create_task(during(runner, job)) if during else None
            async with asyncio.timeout(120):
                while not (row := await stores.jobs.get(job.id)) or not row.state.terminal:
                    await asyncio.sleep(0.1)
                # the join ends its own row after the composition's
                while any(not p.state.terminal for p in await stores.jobs.list(kind=PART)):
                    await asyncio.sleep(0.1)
                if beside is not None:
                    await beside
            path = stores.blobs.local_path(row.output_key or "")
            frames = frame_count(path) if path and path.suffix == ".mp4" else 0
            blobs = Path(settings.data_dir) / "blobs"
            left = sorted(str(p) for p in blobs.rglob("*") if p.is_file() and "parts" in p.parts)
            registry = {r for r in runner.registries()}
            ended = {
                outcome: sum(
                    r.get_sample_value("vidsvc_split_renders_total", {"outcome": outcome}) or 0
                    for r in registry
                )
                for outcome in ("joined", "fallback")
            }
            parts = await stores.jobs.list(kind=PART)
            files = [stores.blobs.local_path(o["output_key"])
                     for o in row.metadata.get("outputs") or ()]  # fmt: skip
            return Ran(row, parts, frames, left, ended, [f for f in files if f])
        finally:
            await runner.pool.stop(5)
            await stack.__aexit__(None, None, None)

    yield run


def losing(how: str, made: list[LosingParts]) -> Callable[[BlobStore], LosingParts]:
    def wrap(blobs: BlobStore) -> LosingParts:
        made.append(LosingParts(blobs, how))
        return made[0]

    return wrap


async def test_a_part_whose_file_is_lost_is_rendered_again_by_the_join(
    service: Callable[..., Any], document: dict[str, Any]
) -> None:
    made: list[LosingParts] = []
    ran = await service(document, losing("lose", made))
    assert made[0].lost, "no part was stored"
    assert ran.row.state is JobState.COMPLETED, ran.row.error
    assert len(ran.row.metadata["split"]["parts_run"]) == 4 and ran.frames == 600
    join = next(p for p in ran.parts if p.id.endswith("_j"))
    assert join.state is JobState.COMPLETED and join.metadata["rendered_again"] == [1]
    assert ran.ended == {"joined": 1, "fallback": 0}
    assert ran.part_files == []


async def test_a_part_that_fails_falls_back_to_one_pass(
    service: Callable[..., Any], document: dict[str, Any]
) -> None:
    made: list[LosingParts] = []
    ran = await service(document, losing("fail", made))
    row = ran.row
    assert made[0].lost, "no part was stored"
    assert row.state is JobState.COMPLETED, row.error
    split = row.metadata["split"]
    assert split["parts"] == 3 and "parts_run" not in split  # it split, then rendered whole
    assert row.attempts == 1  # the fall back gave its attempt back
    assert ran.frames == 600
    assert {p.id[-2:]: p.state for p in ran.parts}["v1"] is JobState.FAILED
    assert ran.part_files == [], "the given-up split's files were left behind"
    assert ran.ended == {"joined": 0, "fallback": 1}


async def test_a_composition_at_the_duration_cap_splits(
    service: Callable[..., Any], document: dict[str, Any]
) -> None:
    ran = await service(document, MAX_DURATION_SECONDS="60")  # it is 60 s long
    assert ran.row.state is JobState.COMPLETED, ran.row.error
    assert len(ran.row.metadata["split"]["parts_run"]) == 4 and ran.frames == 600
    assert ran.part_files == []  # deleted after the join
    assert ran.ended == {"joined": 1, "fallback": 0}
    # what one pass records of its preparation, a split records too
    assert len(ran.row.metadata["inputs"]) == 11  # ten clips and the music, as probed


@pytest.mark.parametrize(
    ("change", "env"),
    [
        ({}, {"SPLIT_RENDERS": "false"}),
        ({}, {"SPLIT_MIN_SECONDS": "61"}),
        ({"format": "webm"}, {}),
        ({"range": {"start": 10, "duration": 40}}, {}),  # a preview: one short pass
    ],
    ids=["off", "short", "webm", "range"],
)
async def test_what_is_not_split_renders_in_one_pass(
    service: Callable[..., Any], document: dict[str, Any], change: dict[str, Any],
    env: dict[str, str],
) -> None:  # fmt: skip
    output = {k: v for k, v in document["output"].items() if "format" not in change
              or k != "resolution"}  # fmt: skip
    if "format" in change:
        output.pop("preset", None)
        output.pop("crf", None)
    doc = {**document, "output": {**output, **change}}
    ran = await service(doc, **env)
    assert ran.row.state is JobState.COMPLETED, ran.row.error
    assert "split" not in ran.row.metadata
    assert ran.parts == []


async def test_a_smart_render_that_copies_everything_is_not_split(
    service: Callable[..., Any], tmp_path: Path
) -> None:
    """Two 20 s render-ready clips cut together: smart rendering copies every GOP, so nothing
    is left to encode and it renders here, copying. (What it does encode splits: two real
    instances in tests/acceptance/reliability/test_split_instances.py.)"""
    ready = make_render_ready(tmp_path / "ready.mp4", seconds=20, preset="superfast")
    clip = {"url": ready.as_uri(), "trim_end": 20}
    doc = {"clips": [clip] * 2, "output": {"resolution": "720p", "preset": "superfast"},
           "cache": False}  # fmt: skip
    ran = await service(doc, ALLOWED_LOCAL_DIRS="/")
    assert ran.row.state is JobState.COMPLETED, ran.row.error
    assert "split" not in ran.row.metadata and ran.parts == []
    assert ran.row.metadata["smart_render"]["encoded_frames"] == 0 and ran.frames == 1200
    # the same composition with smart rendering off splits: the policy above is what kept it
    off = await service({**doc, "output": {**doc["output"], "smart_render": False}},
                        ALLOWED_LOCAL_DIRS="/")  # fmt: skip
    assert off.row.metadata["split"]["parts"] == 2 and off.frames == 1200


async def test_a_split_render_stores_every_rendition(
    service: Callable[..., Any], document: dict[str, Any]
) -> None:
    """Two shapes: each part row records a file of each (and the holding part a thumbnail of
    each) under its fenced completion; the join stores both renditions at the composition's
    keys, each the whole 600 frames in its own shape, and deletes every part's file."""
    shapes = [{"aspect_ratio": "16:9"}, {"aspect_ratio": "9:16", "fit": "cover"}]
    ran = await service({**document, "output": {**document["output"], "renditions": shapes}})
    assert ran.row.state is JobState.COMPLETED, ran.row.error
    assert ran.row.metadata["split"]["parts"] == 3
    outputs = ran.row.metadata["outputs"]
    assert [(o["width"], o["height"]) for o in outputs] == [(320, 180), (180, 320)]
    assert [frame_count(f) for f in ran.renditions] == [600, 600]
    videos = [row for row in ran.parts if row.id.rsplit("_", 1)[1].startswith("v")]
    assert all(sum(n.endswith(".mp4") for n in row.metadata["files"]) == 2 for row in videos)
    assert sum(n.endswith(".jpg") for row in videos for n in row.metadata["files"]) == 2
    assert ran.part_files == []


async def test_a_capped_split_leaves_slots_to_other_jobs(
    service: Callable[..., Any], document: dict[str, Any]
) -> None:
    """SPLIT_PARTS_IN_FLIGHT=2 on three slots (the split: three video parts and the sound):
    never more than two of its rows queued or running, so a job posted after the hand-off
    starts at once, before the split's last part (uncapped, that part would be queued ahead of
    it); and the split still joins every frame."""
    flying: list[int] = []
    other: list[Job] = []
    first = document["clips"][0]["url"]
    short = {"clips": [{"url": first, "trim_end": 1}], "cache": False,
             "output": {"resolution": "180p", "fps": 10, "preset": "ultrafast"}}  # fmt: skip

    async def during(runner: Runner, job: Job) -> None:
        jobs = runner.stores.jobs
        # handed off (its first rows queued): "split into …", the first message of the
        # encoding band, or the parts' own, which may replace it before a poll sees it
        while (row := await jobs.get(job.id)) is None or row.progress.stage != Stage.ENCODING:
            await asyncio.sleep(0.02)
        posted, _ = await runner.submit(JobKind.COMPOSITION, short)
        while not (row := await jobs.get(job.id)) or not row.state.terminal:
            rows = [p for p in await jobs.list(kind=PART) if not p.id.endswith("_j")]
            flying.append(sum(1 for p in rows if not p.state.terminal))
            await asyncio.sleep(0.02)
        while not (done := await jobs.get(posted.id)) or not done.state.terminal:
            await asyncio.sleep(0.05)
        other.append(done)

    ran = await service(document, during=during, SPLIT_PARTS_IN_FLIGHT="2",
                        MAX_CONCURRENT_JOBS="3")  # fmt: skip
    assert ran.row.state is JobState.COMPLETED, ran.row.error
    assert ran.row.metadata["split"]["in_flight"] == 2
    assert len(ran.row.metadata["split"]["parts_run"]) == 4 and ran.frames == 600
    assert max(flying) == 2, flying  # the cap reached, never passed
    assert other[0].state is JobState.COMPLETED, other[0].error
    videos = [p for p in ran.parts if p.id[-2] == "v"]
    assert len(videos) == 3 and other[0].started_at and all(p.started_at for p in videos)
    assert other[0].started_at < max(p.started_at for p in videos if p.started_at)
