"""The render cache (vidsvc/work/compositions/cache.py): real renders through execute(),
in-memory rows, blobs on local disk. FFMPEG_BIN is a wrapper that logs each invocation, then
runs the real FFmpeg, so "FFmpeg did not run" is counted on processes, not inferred."""

from __future__ import annotations

import asyncio
import shutil
import stat
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from vidsvc.config import Settings
from vidsvc.jobs import Job, JobEvent, JobKind, JobState, new_job_id, utcnow
from vidsvc.runner import execute, lifecycle
from vidsvc.schema import parse_composition
from vidsvc.store import Stores
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryJobStore
from vidsvc.work.compositions.cache import CACHE_VERSION, canonical_composition
from vidsvc.work.kinds import handlers

pytestmark = pytest.mark.ffmpeg


class Renders:
    """An FFMPEG_BIN that logs each render (not `-version`), then execs the real ffmpeg."""

    def __init__(self, root: Path) -> None:
        self.log = root / "ffmpeg.log"
        self.bin = root / "ffmpeg-logged"
        real = shutil.which("ffmpeg")
        assert real is not None
        self.bin.write_text(
            f'#!/bin/sh\n[ "$1" = -version ] || echo render >> "{self.log}"\nexec "{real}" "$@"\n'
        )
        self.bin.chmod(self.bin.stat().st_mode | stat.S_IXUSR)

    @property
    def count(self) -> int:
        """FFmpeg renders started so far."""
        if not self.log.exists():
            return 0
        return len(self.log.read_text().splitlines())


@pytest.fixture
def renders(tmp_path: Path) -> Renders:
    return Renders(tmp_path)


@pytest.fixture
def cache_settings(make_settings: Callable[..., Settings], renders: Renders) -> Settings:
    return make_settings(FFMPEG_BIN=str(renders.bin))


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    return Stores(
        jobs=MemoryJobStore(),
        blobs=LocalBlobStore(tmp_path / "blobs"),
        pubsub=MemoryPubSub(),
        backlog=MemoryBacklog(),
    )


Run = Callable[..., Awaitable[Job]]


@pytest.fixture
def run(stores: Stores, cache_settings: Settings) -> Run:
    """Submit a document and execute it once; returns the final row."""

    async def go(doc: dict[str, Any], settings: Settings | None = None, **kw: Any) -> Job:
        now = utcnow()
        job = Job(id=new_job_id(), kind=JobKind.COMPOSITION, state=JobState.QUEUED,
                  payload=doc, created_at=now, updated_at=now, **kw)  # fmt: skip
        await stores.jobs.create(job)
        claimed = await stores.jobs.claim(job.id, owner="w", lease_s=60)
        assert claimed is not None
        deps = lifecycle.Deps(settings=settings or cache_settings, stores=stores, instance_id="w")
        final = await execute.execute(claimed, deps, lifecycle.Control(), handlers())
        assert final is not None and final.state is JobState.COMPLETED, final
        return final

    return go


def doc(clip: Path, **extra: Any) -> dict[str, Any]:
    return {
        "clips": [{"url": clip.as_uri(), "trim_end": 1.0}],
        "overlays": [{"content": "cached?", "duration": 1.0, "style": {"size": 20}}],
        "output": {"resolution": "180p", "fps": 10},
        **extra,
    }


def output_bytes(stores: Stores, job: Job, key: str | None = None) -> bytes:
    assert isinstance(stores.blobs, LocalBlobStore)
    path = stores.blobs.local_path(key or job.output_key or "")
    assert path is not None, f"no blob for {job.id}"
    return path.read_bytes()


@pytest.fixture
def clip(media: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of a real clip, so a test may change its bytes."""
    return Path(shutil.copy(media["a"], tmp_path / "clip.mp4"))


async def test_an_identical_composition_is_served_without_ffmpeg(
    run: Run, stores: Stores, renders: Renders, clip: Path, tmp_path: Path
) -> None:
    first = await run(doc(clip, user_id="alice"))
    assert renders.count == 1
    key = first.metadata["cache"]["key"]
    assert first.metadata["cache"] == {"hit": False, "key": key} and len(key) == 64

    second = await run(doc(clip, user_id="bob"))  # who asks is not part of the key
    assert renders.count == 1, "FFmpeg ran for a cache hit"
    assert second.metadata["cache"] == {
        "hit": True,
        "source_composition_id": first.id,
        "key": key,
    }
    assert second.output_key and second.output_key.startswith(f"outputs/{second.id}/")
    assert second.thumbnail_key and second.thumbnail_key.startswith(f"outputs/{second.id}/")
    assert output_bytes(stores, second) == output_bytes(stores, first)
    assert output_bytes(stores, second, second.thumbnail_key) == output_bytes(
        stores, first, first.thumbnail_key
    )
    assert second.progress.percentage == 100.0
    assert second.metadata["output"] == first.metadata["output"]
    assert second.metadata["render_seconds"] == 0.0
    assert second.metadata["command"] == first.metadata["command"]
    assert set(second.metadata["inputs"]) == {clip.as_uri()}

    # The same bytes under another URL (a presigned URL changes per request) hit too.
    elsewhere = Path(shutil.copy(clip, tmp_path / "renamed.mp4"))
    third = await run(doc(elsewhere))
    assert renders.count == 1
    assert third.metadata["cache"]["hit"] is True
    assert third.metadata["cache"]["source_composition_id"] == second.id  # the newest entry
    assert output_bytes(stores, third) == output_bytes(stores, first)


async def test_one_changed_input_byte_misses(
    run: Run, stores: Stores, renders: Renders, clip: Path
) -> None:
    first = await run(doc(clip))
    data = bytearray(clip.read_bytes())
    assert data[4:8] == b"ftyp"
    data[12] ^= 0x01  # the ftyp minor version: decodes the same, but it is another file
    clip.write_bytes(bytes(data))
    second = await run(doc(clip))
    assert renders.count == 2
    assert second.metadata["cache"]["hit"] is False
    assert second.metadata["cache"]["key"] != first.metadata["cache"]["key"]
    assert second.output_key != first.output_key and output_bytes(stores, second)


async def test_a_different_spec_misses(run: Run, renders: Renders, clip: Path) -> None:
    first = await run(doc(clip))
    other = doc(clip)
    other["overlays"][0]["content"] = "another text"
    second = await run(other)
    third = await run(doc(clip, output={"resolution": "180p", "fps": 12}))
    assert renders.count == 3
    keys = {j.metadata["cache"]["key"] for j in (first, second, third)}
    assert len(keys) == 3
    assert not any(j.metadata["cache"]["hit"] for j in (first, second, third))


async def test_opting_out_renders_afresh_and_still_records_its_key(
    run: Run, renders: Renders, clip: Path
) -> None:
    first = await run(doc(clip))
    fresh = await run(doc(clip, cache=False))
    assert renders.count == 2
    key = first.metadata["cache"]["key"]
    assert fresh.metadata["cache"] == {"hit": False, "key": key, "bypass": "request"}
    later = await run(doc(clip))
    assert renders.count == 2
    assert later.metadata["cache"]["source_composition_id"] == fresh.id  # the newest


async def test_disabled_by_setting_hashes_and_records_nothing(
    run: Run,
    stores: Stores,
    renders: Renders,
    clip: Path,
    make_settings: Callable[..., Settings],
) -> None:
    off = make_settings(FFMPEG_BIN=str(renders.bin), ENABLE_RENDER_CACHE="false")
    first = await run(doc(clip), settings=off)
    second = await run(doc(clip), settings=off)
    assert renders.count == 2
    assert first.metadata["cache"] == {"hit": False, "key": None, "bypass": "disabled"}
    on = await run(doc(clip))  # nothing was recorded while it was off
    assert renders.count == 3 and on.metadata["cache"]["hit"] is False
    assert second.metadata["cache"]["key"] is None


async def test_a_deleted_earlier_output_renders_again(
    run: Run, stores: Stores, renders: Renders, clip: Path
) -> None:
    first = await run(doc(clip))
    assert first.output_key is not None
    await stores.blobs.delete(first.output_key)  # e.g. result expiry took the blob
    second = await run(doc(clip))
    assert renders.count == 2
    assert second.metadata["cache"] == {"hit": False, "key": first.metadata["cache"]["key"]}
    assert output_bytes(stores, second)  # rendered and stored under its own key
    third = await run(doc(clip))  # and the new render is an entry of its own
    assert renders.count == 2
    assert third.metadata["cache"]["source_composition_id"] == second.id


async def test_deleting_the_source_job_leaves_the_hit_whole(
    run: Run, stores: Stores, renders: Renders, clip: Path
) -> None:
    first = await run(doc(clip, user_id="alice"))
    second = await run(doc(clip, user_id="bob"))
    assert second.metadata["cache"]["hit"] is True
    expected = output_bytes(stores, first)
    for job in await stores.jobs.delete_user("alice"):  # what dev reset-user does
        for key in (job.output_key, job.thumbnail_key):
            await stores.blobs.delete(key or "")
    assert output_bytes(stores, second) == expected
    third = await run(doc(clip))  # the hit is an entry too: alice's deletion costs no render
    assert renders.count == 1
    assert third.metadata["cache"]["source_composition_id"] == second.id


async def test_a_lost_lease_cannot_complete_a_hit(
    run: Run, stores: Stores, cache_settings: Settings, clip: Path
) -> None:
    await run(doc(clip))
    now = utcnow()
    job = Job(id=new_job_id(), kind=JobKind.COMPOSITION, state=JobState.QUEUED,
              payload=doc(clip), created_at=now, updated_at=now)  # fmt: skip
    await stores.jobs.create(job)
    stale = await stores.jobs.claim(job.id, owner="w", lease_s=60)
    assert stale is not None
    reaped = await stores.jobs.reap_expired(utcnow() + timedelta(hours=1))
    assert [j.id for j in reaped] == [job.id]
    current = await stores.jobs.claim(job.id, owner="other", lease_s=60)
    assert current is not None
    deps = lifecycle.Deps(settings=cache_settings, stores=stores, instance_id="w")
    fenced = await execute.execute(stale, deps, lifecycle.Control(), handlers())
    assert fenced is None  # fenced out
    row = await stores.jobs.get(job.id)
    assert row is not None and row.state is JobState.PROCESSING and row.lease is not None
    assert row.lease.owner == "other"


def test_the_canonical_composition_drops_user_id_and_urls() -> None:
    comp = parse_composition(
        {"clips": [{"url": "https://x/a.mp4?sig=1"}], "audio": {"music_url": "s3://b/m.mp3"},
         "user_id": "u", "cache": False}
    )  # fmt: skip
    names = {"https://x/a.mp4?sig=1": "in0.mp4", "s3://b/m.mp3": "in1.mp3"}
    doc = canonical_composition(comp, names)
    assert "user_id" not in doc and "cache" not in doc
    assert doc["clips"][0]["url"] == "in0.mp4" and doc["audio"]["music_url"] == "in1.mp3"
    assert CACHE_VERSION >= 1


async def test_a_hit_through_the_http_api_shows_in_the_metadata(
    aiohttp_client: Callable[..., Awaitable[Any]], tmp_path: Path, renders: Renders, clip: Path
) -> None:
    from vidsvc.http import create_app
    from vidsvc.http.bodies import CompositionMetadataSchema

    settings = Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(tmp_path),
            "X264_PRESET": "ultrafast",
            "FFMPEG_BIN": str(renders.bin),
            "RATE_LIMIT_PER_MINUTE": "0",
        }
    )
    client = await aiohttp_client(create_app(settings))

    async def completed(document: dict[str, Any]) -> dict[str, Any]:
        resp = await client.post("/api/v1/compositions", json=document)
        assert resp.status == 202, await resp.text()
        job_id = (await resp.json())["composition_id"]
        async with asyncio.timeout(120):
            while True:
                body = await (await client.get(f"/api/v1/compositions/{job_id}")).json()
                if body["status"] in ("completed", "failed"):
                    break
                await asyncio.sleep(0.05)
        assert body["status"] == "completed", body
        meta: dict[str, Any] = await (
            await client.get(f"/api/v1/compositions/{job_id}/metadata")
        ).json()
        assert CompositionMetadataSchema().validate(meta) == {}
        return meta

    refused = await client.post("/api/v1/compositions", json=doc(clip, cache="false"))
    assert refused.status == 400  # only a JSON boolean opts out
    error = (await refused.json())["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"]["field"] == "cache"
    spec = await (await client.get("/api/docs/openapi.json")).json()
    assert spec["components"]["schemas"]["Composition"]["properties"]["cache"]["type"] == "boolean"

    first = await completed(doc(clip))
    second = await completed(doc(clip))
    assert renders.count == 1
    assert second["cache"] == {
        "hit": True,
        "source_composition_id": first["composition_id"],
        "key": first["cache"]["key"],
    }
    assert first["cache"]["hit"] is False
    download = await client.get(f"/api/v1/compositions/{second['composition_id']}/download")
    assert download.status == 200  # the redirect to the signed URL was followed
    served = await download.read()
    original = await client.get(f"/api/v1/compositions/{first['composition_id']}/download")
    assert served == await original.read()


async def test_a_hit_on_the_sqlite_store_and_s3(
    request: pytest.FixtureRequest, tmp_path: Path, renders: Renders, clip: Path,
    make_settings: Callable[..., Settings],
) -> None:  # fmt: skip
    """The same flow on the other backends: the key in the SQLite column, a server-side copy."""
    from vidsvc.store.s3 import S3BlobStore
    from vidsvc.store.sqlite import SqliteJobStore

    bucket = request.getfixturevalue("s3_bucket")
    blobs = await S3BlobStore.open(bucket.settings())
    jobs = await SqliteJobStore.open(tmp_path / "jobs.db")
    stores = Stores(jobs=jobs, blobs=blobs, pubsub=MemoryPubSub(), backlog=MemoryBacklog())
    settings = make_settings(FFMPEG_BIN=str(renders.bin))
    try:
        finals = []
        for _ in range(2):
            now = utcnow()
            job = Job(id=new_job_id(), kind=JobKind.COMPOSITION, state=JobState.QUEUED,
                      payload=doc(clip), created_at=now, updated_at=now)  # fmt: skip
            await jobs.create(job)
            claimed = await jobs.claim(job.id, owner="w", lease_s=60)
            assert claimed is not None
            deps = lifecycle.Deps(settings=settings, stores=stores, instance_id="w")
            final = await execute.execute(claimed, deps, lifecycle.Control(), handlers())
            assert final is not None and final.state is JobState.COMPLETED
            finals.append(final)
        first, second = finals
        assert renders.count == 1
        assert second.metadata["cache"]["source_composition_id"] == first.id
        got = []
        for n, job in enumerate(finals):
            await blobs.get_file(job.output_key or "", tmp_path / f"{n}.mp4")
            got.append((tmp_path / f"{n}.mp4").read_bytes())
        assert got[0] == got[1] and got[0][4:8] == b"ftyp"
    finally:
        await jobs.aclose()
        await blobs.aclose()


async def test_progress_says_it_was_a_hit(
    run: Run, stores: Stores, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run(doc(clip))
    job_id = new_job_id()
    monkeypatch.setattr(f"{__name__}.new_job_id", lambda: job_id)
    events: list[JobEvent] = []

    async def listen() -> None:
        async with stores.pubsub.subscribe(lifecycle.channel(job_id)) as messages:
            async for raw in messages:
                events.append(JobEvent.from_json(raw))

    listener = asyncio.ensure_future(listen())
    await asyncio.sleep(0.05)  # subscribed before the job runs
    try:
        final = await run(doc(clip))
        async with asyncio.timeout(10):  # the listener drains what was published
            while not events or not events[-1].state.terminal:
                await asyncio.sleep(0.01)
    finally:
        listener.cancel()
    assert final.id == job_id and final.metadata["cache"]["hit"] is True
    messages = [e.progress.message for e in events]
    assert any(m.startswith("render cache hit") for m in messages), messages
    assert not any(e.progress.stage == "encoding" for e in events)
    assert events[-1].state is JobState.COMPLETED and events[-1].progress.percentage == 100.0


async def test_other_font_bytes_at_the_same_path_miss(
    run: Run, stores: Stores, renders: Renders, clip: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The argv names the font file, not its contents: a font upgrade must still miss."""
    from vidsvc.media import fonts

    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    font = tmp_path / "font.ttf"
    shutil.copy(dejavu / "DejaVuSans.ttf", font)
    monkeypatch.setattr(fonts, "_cache", {"DejaVu Sans": str(font)})
    first = await run(doc(clip))
    shutil.copy(dejavu / "DejaVuSans-Bold.ttf", font)  # same path, other glyphs
    second = await run(doc(clip))
    assert renders.count == 2
    assert second.metadata["command"] == first.metadata["command"]
    assert second.metadata["cache"]["key"] != first.metadata["cache"]["key"]
    assert output_bytes(stores, second) != output_bytes(stores, first)  # bold text now


async def test_installing_a_fallback_font_misses(
    run: Run, renders: Renders, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libass falls back per character to any installed font, so the key holds the installed
    set: a font installed since (seen after a restart) is a miss, the same set a hit."""
    from vidsvc.media import coverage

    fonts = tmp_path / "system-fonts"
    fonts.mkdir()
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    shutil.copy(dejavu / "DejaVuSans.ttf", fonts)
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{fonts}</dir>'
        f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))  # fc-list and FFmpeg's libass alike
    monkeypatch.setattr(coverage, "_listings", {})  # as a process started now
    first = await run(doc(clip))
    again = await run(doc(clip))
    shutil.copy(dejavu / "DejaVuSerif.ttf", fonts)
    monkeypatch.setattr(coverage, "_listings", {})  # the restart after installing it
    third = await run(doc(clip))
    assert again.metadata["cache"]["hit"] is True
    assert third.metadata["cache"]["key"] != first.metadata["cache"]["key"]
    assert renders.count == 2


async def test_a_pinned_thread_count_is_in_the_key(
    run: Run, renders: Renders, clip: Path, make_settings: Callable[..., Settings]
) -> None:
    """x264's bytes depend on its thread count: FFMPEG_THREADS=1 and =2 must not share."""
    one = await run(
        doc(clip), settings=make_settings(FFMPEG_BIN=str(renders.bin), FFMPEG_THREADS="1")
    )
    two = await run(
        doc(clip), settings=make_settings(FFMPEG_BIN=str(renders.bin), FFMPEG_THREADS="2")
    )
    assert renders.count == 2
    assert one.metadata["cache"]["key"] != two.metadata["cache"]["key"]


async def test_the_per_job_thread_share_is_not_in_the_key(
    run: Run, stores: Stores, renders: Renders, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FFMPEG_THREADS=0: the share depends on the renders running, not on the request."""
    from vidsvc.work.compositions import render

    monkeypatch.setattr(render, "threads_for_job", lambda settings, load: 1)  # alongside others
    first = await run(doc(clip))
    monkeypatch.setattr(render, "threads_for_job", lambda settings, load: 3)  # alone on 2 cores
    second = await run(doc(clip))
    assert "-threads" in first.metadata["command"]
    assert renders.count == 1 and second.metadata["cache"]["source_composition_id"] == first.id
    assert second.metadata["command"] == first.metadata["command"]  # what made the bytes


async def test_text_facts_and_captions_reach_the_job_and_the_key(
    run: Run, renders: Renders, clip: Path
) -> None:
    """Issue 11: a character no font has is in metadata.text.missing_glyphs; a caption's text
    is in the key (through the ASS document), so another caption misses."""
    cues = [{"start": 0, "end": 0.8, "text": "first \U0010fffd"}]
    first = await run(doc(clip, captions={"cues": cues}))
    assert first.metadata["text"]["missing_glyphs"][0]["codepoint"] == "U+10FFFD"
    other = [{"start": 0, "end": 0.8, "text": "second"}]
    second = await run(doc(clip, captions={"cues": other}))
    assert "text" not in second.metadata
    assert second.metadata["cache"]["key"] != first.metadata["cache"]["key"]
    assert renders.count == 2


async def test_a_captions_file_and_a_font_at_presigned_urls_hit(
    run: Run,
    renders: Renders,
    clip: Path,
    aiohttp_server: Callable[..., Awaitable[Any]],
    make_settings: Callable[..., Settings],
) -> None:
    """A presigned URL changes per request: the same caption and font bytes behind another
    query string are the same render; other caption bytes are not."""
    files = {
        "/cap.srt": b"1\n00:00:00,000 --> 00:00:00,800\nhello\n",
        "/brought.ttf": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").read_bytes(),
    }

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=files[request.path])

    app = web.Application()
    app.router.add_get("/{name}", serve)
    srv = await aiohttp_server(app)
    settings = make_settings(
        FFMPEG_BIN=str(renders.bin), ALLOWED_URL_HOSTS=f"{srv.host}:{srv.port}"
    )

    def signed(sig: int) -> dict[str, Any]:
        return doc(
            clip,
            captions={"url": str(srv.make_url(f"/cap.srt?sig={sig}"))},
            fonts=[{"family": "Brought", "url": str(srv.make_url(f"/brought.ttf?sig={sig}"))}],
            overlays=[
                {"content": "hi", "duration": 1.0, "style": {"font": "Brought", "size": 20}}
            ],
        )

    first = await run(signed(1), settings)
    second = await run(signed(2), settings)
    assert renders.count == 1, "the same caption and font bytes rendered again"
    assert second.metadata["cache"] == {**first.metadata["cache"], "hit": True,
                                        "source_composition_id": first.id}  # fmt: skip
    files["/cap.srt"] = files["/cap.srt"].replace(b"hello", b"other")
    third = await run(signed(3), settings)
    assert renders.count == 2 and third.metadata["cache"]["hit"] is False
