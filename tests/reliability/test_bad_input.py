"""RELIABILITY.md Part B, group B (bad input): B1–B4, B6(b–d), B7–B10.

Codes, as README records (a deliberate deviation from RELIABILITY.md): malformed shapes are SPEC's
400 VALIDATION_ERROR, refused URLs 400 INVALID_CLIP_FORMAT, timeline rules 400 INVALID_TIMELINE,
each naming the field; a download that times out is SPEC's INPUT_UNAVAILABLE, not STORAGE_ERROR.
B5 and B6(a) (pixel, stream, duration and size caps at the probe) are tests/reliability/
test_limits.py's. The fake FFmpeg stands in only where a fault is injected (B6(c)) or where the
test proves that no render ran (its invocation log stays empty); ffprobe is always the real one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from tests.runner.conftest import is_alive, probe_media, runner_settings
from tests.support.media import make_video
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, InvalidTimeline, ValidationError
from vidsvc.graph.timeline import Limits, plan
from vidsvc.http import create_app
from vidsvc.runner.inputs import check_url
from vidsvc.runner.probe import probe
from vidsvc.schema import parse_composition

__all__ = ["probe_media", "runner_settings"]  # fixtures from tests/runner/conftest.py
PROBE_FIELD = "clips[1].url"

pytestmark = pytest.mark.B
Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
FAKE_FFMPEG = Path(__file__).resolve().parents[1] / "fakes" / "fake_ffmpeg.py"
POST = "/api/v1/compositions"


# -- the real app (real Runner, SQLite, disk) --------------------------------------------------


class App:
    """A client of the real app, and the fake FFmpeg's invocation log when it is in use."""

    def __init__(self, client: Client, root: Path, argv_log: Path) -> None:
        self.client = client
        self.root = root
        self.argv_log = argv_log

    def renders(self) -> list[list[str]]:
        """Every FFmpeg run the fake saw (its `-version` health checks left out)."""
        if not self.argv_log.exists():
            return []
        runs = [json.loads(line) for line in self.argv_log.read_text().splitlines()]
        return [argv for argv in runs if argv != ["-version"]]

    def blobs(self) -> list[Path]:
        return [p for p in (self.root / "data" / "blobs").rglob("*") if p.is_file()]

    async def post(self, body: Any) -> tuple[int, dict[str, Any]]:
        if isinstance(body, bytes):
            headers = {"Content-Type": "application/json"}
            resp = await self.client.post(POST, data=body, headers=headers)
        else:
            resp = await self.client.post(POST, json=body)
        return resp.status, await resp.json()

    async def finished(self, job_id: str) -> dict[str, Any]:
        async with asyncio.timeout(90):
            while True:
                resp = await self.client.get(f"{POST}/{job_id}")
                body: dict[str, Any] = await resp.json()
                if body["status"] in ("completed", "failed", "cancelled"):
                    return body
                await asyncio.sleep(0.1)

    async def row_count(self) -> int:
        body = await (await self.client.get(f"{POST}?limit=100")).json()
        return len(body["items"])


@pytest.fixture
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of good small inputs, the only one the app may read."""
    root = tmp_path_factory.mktemp("clips")
    make_video(root / "good.mp4", size="160x120", rate=10, seconds=1, tone=440)
    return root


@pytest.fixture
def make_app(
    aiohttp_client: MakeClient,
    tmp_path: Path,
    clips: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Awaitable[App]]:
    """The real app; `fake=MODE` puts the fake FFmpeg (in that mode) in place of the real one."""

    async def make(fake: str | None = None, **env: str) -> App:
        argv_log = tmp_path / "ffmpeg-argv.jsonl"
        values = {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(clips),
            "ALLOWED_S3_BUCKETS": "bucket",
            "X264_PRESET": "ultrafast",
            "MAX_CONCURRENT_JOBS": "1",
            "MAX_ATTEMPTS": "1",
            "RATE_LIMIT_PER_MINUTE": "0",
        }
        if fake is not None:
            monkeypatch.setenv("FAKE_FFMPEG_MODE", fake)
            monkeypatch.setenv("FAKE_FFMPEG_ARGVFILE", str(argv_log))
            monkeypatch.setenv("FAKE_FFMPEG_PIDFILE", str(tmp_path / "ffmpeg.pids"))
            values["FFMPEG_BIN"] = str(FAKE_FFMPEG)
        client = await aiohttp_client(create_app(Settings.from_env(values | env)))
        return App(client, tmp_path, argv_log)

    return make


def good(clips: Path) -> str:
    return (clips / "good.mp4").as_uri()


def assert_refused(status: int, body: dict[str, Any], code: str, field: str, case: Any) -> None:
    assert status == 400, (case, body)
    assert set(body) == {"error"}, (case, body)
    error = body["error"]
    assert set(error) == {"code", "message", "details", "timestamp", "request_id"}, error
    assert (error["code"], error["details"].get("field")) == (code, field), (case, error)
    assert isinstance(error["message"], str) and error["message"], case


async def refused_at_post(app: App, cases: list[tuple[Any, str, str]]) -> None:
    """Each case is a 400 envelope naming its field; nothing is stored and FFmpeg never runs."""
    for body, code, field in cases:
        status, answer = await app.post(body)
        assert_refused(status, answer, code, field, body)
    assert await app.row_count() == 0
    assert app.renders() == [] and app.blobs() == []


# -- B1: malformed requests ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"", b"[1, 2]", b'"clips"', b"null"])
@pytest.mark.ffmpeg
async def test_malformed_json_is_400_naming_the_body(
    make_app: Callable[..., Awaitable[App]], raw: bytes
) -> None:
    """B1: invalid JSON or not an object (moved from tests/http/test_http_errors.py, where it ran
    against a fake runner)."""
    app = await make_app(fake="sleep:0.1")
    await refused_at_post(app, [(raw, "VALIDATION_ERROR", "body")])


@pytest.mark.ffmpeg
async def test_malformed_documents_are_400_naming_the_field(
    make_app: Callable[..., Awaitable[App]], clips: Path
) -> None:
    """B1: wrong types, unknown keys, missing clips, an empty timeline: 400 naming the field, no
    row, no FFmpeg."""
    url = good(clips)
    app = await make_app(fake="sleep:0.1")
    await refused_at_post(
        app,
        [
            (
                {"clips": [{"url": url, "trim_start": "abc"}]},
                "VALIDATION_ERROR",
                "clips[0].trim_start",
            ),
            ({"clips": [{"url": url}], "surprise": 1}, "VALIDATION_ERROR", "surprise"),
            ({"overlays": []}, "VALIDATION_ERROR", "clips"),
            ({"clips": "no"}, "VALIDATION_ERROR", "clips"),
            ({"clips": [{"url": url, "bogus": True}]}, "VALIDATION_ERROR", "clips[0].bogus"),
            ({"clips": []}, "INVALID_TIMELINE", "clips"),
        ],
    )


# -- B2: timeline semantics ---------------------------------------------------------------------


@pytest.mark.ffmpeg
async def test_static_timeline_errors_are_refused_at_post(
    make_app: Callable[..., Awaitable[App]], clips: Path
) -> None:
    """B2: negative trims, trim_end ≤ trim_start, a transition longer than a clip, an overlay
    ending before it starts or starting past the end, NaN and Infinity, a total over
    MAX_DURATION_SECONDS; B6(b): a 10 h output."""
    url = good(clips)
    nan = f'{{"clips": [{{"url": "{url}", "trim_end": NaN}}]}}'.encode()
    inf = f'{{"clips": [{{"url": "{url}", "trim_start": Infinity}}]}}'.encode()
    short = {"url": url, "trim_end": 1}
    app = await make_app(fake="sleep:0.1")
    await refused_at_post(
        app,
        [
            (
                {"clips": [{"url": url, "trim_start": -1}]},
                "VALIDATION_ERROR",
                "clips[0].trim_start",
            ),
            (
                {"clips": [{"url": url, "trim_start": 2, "trim_end": 1}]},
                "INVALID_TIMELINE",
                "clips[0].trim_end",
            ),
            (
                {
                    "clips": [
                        short,
                        {**short, "transition_in": "crossfade", "transition_duration": 2},
                    ]
                },
                "INVALID_TIMELINE",
                "clips[1].transition_duration",
            ),
            (
                {
                    "clips": [short],
                    "overlays": [{"content": "x", "start_time": 0.5, "duration": 0}],
                },
                "INVALID_TIMELINE",
                "overlays[0].duration",
            ),
            (
                {"clips": [short], "overlays": [{"content": "x", "start_time": 5}]},
                "INVALID_TIMELINE",
                "overlays[0].start_time",
            ),
            (
                {"clips": [short], "overlays": [{"content": "x", "duration": 5}]},
                "INVALID_TIMELINE",
                "overlays[0].duration",
            ),
            (
                {"clips": [{"url": url, "trim_end": 0.2, "end_time": 0.1}]},
                "INVALID_TIMELINE",
                "clips[0].end_time",
            ),  # it would start before 0 (found by tests/property)
            (
                {"clips": [{"url": url, "trim_end": 0.05}], "output": {"fps": 10}},
                "INVALID_TIMELINE",
                "clips",
            ),  # shorter than one frame: nothing to encode (found by tests/property)
            (nan, "VALIDATION_ERROR", "clips[0].trim_end"),
            (inf, "VALIDATION_ERROR", "clips[0].trim_start"),
            ({"clips": [{"url": url, "trim_end": 600}]}, "INVALID_TIMELINE", "clips"),
            ({"clips": [{"url": url, "end_time": 36000}]}, "INVALID_TIMELINE", "clips"),
            (
                {"clips": [short], "output": {"duration": 36000}},
                "VALIDATION_ERROR",
                "output.duration",
            ),
        ],
    )


@pytest.mark.ffmpeg
async def test_problems_only_a_probe_shows_fail_the_job_before_any_render(
    make_app: Callable[..., Awaitable[App]], clips: Path, probe_media: dict[str, Path]
) -> None:
    """B2 (trim_end past the real end) → failed INVALID_TIMELINE; B4 (a JPEG, a playlist, an
    ffconcat script, a zip, a DASH manifest, named like videos) and B7 (an MP4 cut at 60 %)
    → failed INVALID_CLIP_FORMAT. Only ffprobe ran: no FFmpeg render, no stored output."""
    for name in ("jpeg.mp4", "hls.mp4", "concat.mov", "archive.mp4", "dash.mp4", "truncated.mp4"):
        (clips / name).write_bytes(probe_media[name].read_bytes())
    app = await make_app(fake="sleep:0.1")
    cases = [({"url": good(clips), "trim_start": 0, "trim_end": 30}, "INVALID_TIMELINE")]
    cases += [
        ({"url": (clips / name).as_uri()}, "INVALID_CLIP_FORMAT")
        for name in (
            "jpeg.mp4",
            "hls.mp4",
            "concat.mov",
            "archive.mp4",
            "dash.mp4",
            "truncated.mp4",
        )
    ]
    for clip, code in cases:
        status, created = await app.post({"clips": [{"url": good(clips)}, clip]})
        assert status == 202, created
        body = await app.finished(created["composition_id"])
        assert body["status"] == "failed", (clip, body)
        assert body["error"]["code"] == code, (clip, body)
        assert str(clips) not in json.dumps(body)  # no server paths in the error
    assert app.renders() == [] and app.blobs() == []


# -- B3: URL forms ------------------------------------------------------------------------------

BAD_URLS = [
    "http://evil.example.org/a.mp4",
    "https://evil.example.org/a.mp4",
    "file:///etc/passwd",
    "ftp://media.example.com/a.mp4",
    "data:video/mp4;base64,AAAA",
    "concat:a.mp4|b.mp4",
    "subfile,,start,0,end,100,,:/etc/passwd",
    "s3:/bucket/key.mp4",
    "s3://bucket",
    "s3://bucket/a\nb.mp4",
    "s3://bucket/a\rb.mp4",
    "s3://bucket/a\x00b.mp4",
    "s3://bucket/../x.mp4",
    "s3://bucket/%2e%2e/x.mp4",
    "-i",
    "/etc/passwd",
]


@pytest.mark.ffmpeg
async def test_refused_urls_name_their_field_at_post(
    make_app: Callable[..., Awaitable[App]], clips: Path
) -> None:
    """B3: every refused form is 400 INVALID_CLIP_FORMAT naming the offending index, and
    music_url and voiceover_url get the same policy. No row; FFmpeg never runs."""
    ok = {"url": good(clips)}
    cases: list[tuple[Any, str, str]] = []
    for url in BAD_URLS:
        cases.append(({"clips": [ok, {"url": url}]}, "INVALID_CLIP_FORMAT", "clips[1].url"))
    for key in ("music_url", "voiceover_url"):
        for url in BAD_URLS[:4]:
            doc = {"clips": [ok], "audio": {key: url}}
            cases.append((doc, "INVALID_CLIP_FORMAT", f"audio.{key}"))
    app = await make_app(fake="sleep:0.1")
    await refused_at_post(app, cases)


# -- B6(c), B6(d): a hung FFmpeg, a download that never ends ----------------------------------


@pytest.mark.ffmpeg
async def test_a_hung_ffmpeg_is_killed_at_job_timeout(
    make_app: Callable[..., Awaitable[App]], clips: Path, tmp_path: Path
) -> None:
    """B6(c): the fake ignores SIGTERM and hangs: at JOB_TIMEOUT its process group is killed and
    the job fails PROCESSING_FAILED; no process is left."""
    app = await make_app(fake="hang", JOB_TIMEOUT="1", KILL_GRACE="0.5")
    status, created = await app.post({"clips": [{"url": good(clips)}]})
    assert status == 202, created
    body = await app.finished(created["composition_id"])
    assert body["status"] == "failed" and body["error"]["code"] == "PROCESSING_FAILED", body
    pids = [int(p) for p in (tmp_path / "ffmpeg.pids").read_text().split()]
    assert pids and len(app.renders()) == 1
    async with asyncio.timeout(10):
        while any(is_alive(pid) for pid in pids):
            await asyncio.sleep(0.05)
    assert app.blobs() == []


@pytest.fixture
async def dribbler() -> AsyncIterator[int]:
    """An HTTP server that sends a video one byte a second, forever."""

    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        resp.content_length = 10_000_000
        await resp.prepare(request)
        for _ in range(3600):
            await resp.write(b"\x00")
            await asyncio.sleep(1)
        return resp

    app = web.Application()
    app.router.add_get("/{name}", slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


@pytest.mark.ffmpeg
async def test_a_download_that_never_finishes_fails_the_job(
    make_app: Callable[..., Awaitable[App]], dribbler: int
) -> None:
    """B6(d): aborted at DOWNLOAD_TIMEOUT; the job fails INPUT_UNAVAILABLE (SPEC.md §2's code for
    an input that cannot be fetched) before any render."""
    app = await make_app(
        fake="sleep:0.1", ALLOWED_URL_HOSTS=f"127.0.0.1:{dribbler}", DOWNLOAD_TIMEOUT="1"
    )
    status, created = await app.post({"clips": [{"url": f"http://127.0.0.1:{dribbler}/a.mp4"}]})
    assert status == 202, created
    body = await app.finished(created["composition_id"])
    assert body["status"] == "failed" and body["error"]["code"] == "INPUT_UNAVAILABLE", body
    assert "timed out" in body["error"]["message"]
    assert app.renders() == [] and app.blobs() == []


# -- B7: corrupt media --------------------------------------------------------------------------


@pytest.mark.ffmpeg
async def test_bit_flipped_media_renders_or_fails_with_a_clean_error(
    make_app: Callable[..., Awaitable[App]], clips: Path, tmp_path: Path
) -> None:
    """B7: a clip with flipped bytes in its frames either renders (FFmpeg conceals) or fails
    with PROCESSING_FAILED / INVALID_CLIP_FORMAT; the error is short and holds no server path."""
    source = make_video(tmp_path / "src.mp4", size="160x120", rate=10, seconds=2, tone=440)
    data = bytearray(source.read_bytes())
    for at in range(len(data) // 5, len(data) * 4 // 5, 97):
        data[at] ^= 0xFF
    (clips / "flipped.mp4").write_bytes(bytes(data))
    app = await make_app()
    status, created = await app.post(
        {"clips": [{"url": (clips / "flipped.mp4").as_uri()}], "output": {"resolution": "180p"}}
    )
    assert status == 202, created
    body = await app.finished(created["composition_id"])
    if body["status"] == "failed":
        error = body["error"]
        assert error["code"] in ("PROCESSING_FAILED", "INVALID_CLIP_FORMAT"), error
        text = json.dumps(error)
        assert len(text) <= 4096 + 512, len(text)
        for secret in (str(tmp_path), str(clips), "/tmp/", os.environ.get("HOME", "/root")):
            assert secret not in text, (secret, text)
    else:
        assert body["status"] == "completed", body


@pytest.mark.ffmpeg
async def test_ffmpeg_errors_reach_the_client_short_and_sanitised(
    make_app: Callable[..., Awaitable[App]], clips: Path, tmp_path: Path
) -> None:
    """B7: FFmpeg fails (the fake prints its workspace path in stderr and exits 1): the job is
    PROCESSING_FAILED and its error, as the API shows it, is short and names no server path."""
    app = await make_app(fake="exit:1")
    status, created = await app.post({"clips": [{"url": good(clips)}]})
    assert status == 202, created
    body = await app.finished(created["composition_id"])
    assert body["status"] == "failed" and body["error"]["code"] == "PROCESSING_FAILED", body
    text = json.dumps(body["error"])
    assert "Invalid data found" in text  # the useful part of stderr is kept
    assert len(text) <= 4096 + 512, len(text)
    for secret in (str(tmp_path), "/tmp/", "/work/"):
        assert secret not in text, (secret, text)
    assert len(app.renders()) == 1 and app.blobs() == []


# -- B8: output settings allowlist ------------------------------------------------------------


@pytest.mark.ffmpeg
async def test_output_settings_off_the_table_are_refused(
    make_app: Callable[..., Awaitable[App]], clips: Path
) -> None:
    """B8: only enum values and bounded integers reach argv; anything else is 400 naming it."""
    ok = [{"url": good(clips)}]
    app = await make_app(fake="sleep:0.1")
    cases: list[tuple[Any, str, str]] = []
    for output, field in [
        ({"width": 100000}, "output.width"),
        ({"fps": 10000}, "output.fps"),
        ({"fps": 0}, "output.fps"),
        ({"codec": "libx264 -y /etc/x"}, "output.codec"),
        ({"codec": "copy"}, "output.codec"),
        ({"bitrate": -1}, "output.bitrate"),
        ({"container": "hls"}, "output.container"),
        ({"format": "hls"}, "output.format"),
        ({"preset": "placebo"}, "output.preset"),
        ({"pix_fmt": "yuv444p16"}, "output.pix_fmt"),
        ({"crf": 99}, "output.crf"),
        ({"resolution": "99999p"}, "output.resolution"),
    ]:
        cases.append(({"clips": ok, "output": output}, "VALIDATION_ERROR", field))
    await refused_at_post(app, cases)


# -- B9: overlay text ---------------------------------------------------------------------------


@pytest.mark.ffmpeg
async def test_bad_overlay_text_is_refused_at_post(
    make_app: Callable[..., Awaitable[App]], clips: Path
) -> None:
    """B9: over MAX_TEXT_CHARS (10 000 chars; a 5 000 × ZWJ storm), NUL, a lone surrogate: 400
    INVALID_TIMELINE naming the content. (RTL, emoji and CRLF render: test_security.py.)"""
    url = good(clips)

    def doc(text: str) -> dict[str, Any]:
        return {"clips": [{"url": url}], "overlays": [{"content": text}]}

    surrogate = json.dumps(doc("x")).replace('"x"', '"lone \\ud800 half"').encode()
    app = await make_app(fake="sleep:0.1")
    field = "overlays[0].content"
    await refused_at_post(
        app,
        [
            (doc("x" * 10_000), "INVALID_TIMELINE", field),
            (doc("\u200d" * 5000), "INVALID_TIMELINE", field),
            (doc("nul\x00byte"), "INVALID_TIMELINE", field),
            (surrogate, "INVALID_TIMELINE", field),
        ],
    )


# -- B10: unknown or malformed identifiers ---------------------------------------------------


@pytest.mark.ffmpeg
async def test_unknown_and_malformed_ids_are_404_against_the_real_store(
    make_app: Callable[..., Awaitable[App]], caplog: pytest.LogCaptureFixture
) -> None:
    """B10: a random uuid, not-a-uuid, `../../etc/passwd` (encoded and verbatim), NUL and an
    over-long id are 404 COMPOSITION_NOT_FOUND on every id route, never 500, with no error
    logged by the database; a WebSocket to an unknown id closes 4404 with the same code."""
    app = await make_app(fake="sleep:0.1")
    client = app.client
    caplog.set_level(logging.WARNING)
    ids = [str(uuid.uuid4()), "not-a-uuid", "..%2F..%2Fetc%2Fpasswd", "%00", "comp_" + "a" * 300]
    for job_id in ids:
        for suffix in ("", "/metadata", "/download"):
            resp = await client.get(f"{POST}/{job_id}{suffix}")
            body = await resp.json()
            assert resp.status == 404, (job_id, suffix, body)
            assert body["error"]["code"] == "COMPOSITION_NOT_FOUND", (job_id, body)
        resp = await client.delete(f"{POST}/{job_id}")
        assert resp.status == 404, job_id
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"GET /api/v1/compositions/../../etc/passwd HTTP/1.1\r\nHost: x\r\n"
        b"Connection: close\r\n\r\n"
    )
    raw = await reader.read()
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    assert json.loads(payload)["error"]["code"] == "COMPOSITION_NOT_FOUND"
    for job_id in (str(uuid.uuid4()), "not-an-id", "..%2Fetc%2Fpasswd"):
        async with client.ws_connect(f"/ws/compositions/{job_id}") as ws:
            msg = await ws.receive(timeout=5)
            assert msg.type == WSMsgType.CLOSE and msg.data == 4404, msg
            assert "COMPOSITION_NOT_FOUND" in str(msg.extra)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# -- B1, B2, B8, S3 at the parser (moved from tests/unit/test_schema.py) ----------------------


def shape_refused(document: Any) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        parse_composition(document)
    assert err.value.code == "VALIDATION_ERROR"
    return err.value


@pytest.mark.S
@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "body"),
        ({}, "clips"),
        ({"clips": "a"}, "clips"),
        ({"clips": [{}]}, "clips[0].url"),
        ({"clips": [{"url": "a", "trim_start": "abc"}]}, "clips[0].trim_start"),
        ({"clips": [{"url": "a", "trim_start": -1}]}, "clips[0].trim_start"),
        ({"clips": [{"url": "a", "trim_start": float("nan")}]}, "clips[0].trim_start"),
        ({"clips": [{"url": "a", "trim_end": float("inf")}]}, "clips[0].trim_end"),
        (
            {"clips": [{"url": "a", "transition_in": "fade,movie=/etc/passwd"}]},
            "clips[0].transition_in",
        ),
        ({"clips": [{"url": "a", "color_preset": "sepia"}]}, "clips[0].color_preset"),
        ({"clips": [{"url": "a"}], "bogus": 1}, "bogus"),
        (
            {
                "clips": [{"url": "a"}],
                "overlays": [{"content": "x", "style": {"font": "DejaVu',drawtext=text=OWNED"}}],
            },
            "overlays[0].style.font",
        ),
        (
            {
                "clips": [{"url": "a"}],
                "overlays": [{"content": "x", "style": {"color": "white:textfile=/etc/passwd"}}],
            },
            "overlays[0].style.color",
        ),
        (
            {
                "clips": [{"url": "a"}],
                "overlays": [{"content": "x", "position": {"x": "(w-tw)/2:textfile=/etc/passwd"}}],
            },
            "overlays[0].position.x",
        ),
        (
            {"clips": [{"url": "a"}], "overlays": [{"content": "x", "style": {"size": "24;"}}]},
            "overlays[0].style.size",
        ),
        (
            {"clips": [{"url": "a"}], "overlays": [{"content": "x", "style": {"size": 24.5}}]},
            "overlays[0].style.size",
        ),
        (
            {"clips": [{"url": "a"}], "overlays": [{"type": "image", "content": "x"}]},
            "overlays[0].type",
        ),
        ({"clips": [{"url": "a"}], "output": {"resolution": "8k"}}, "output.resolution"),
        ({"clips": [{"url": "a"}], "output": {"fps": 10000}}, "output.fps"),
        ({"clips": [{"url": "a"}], "output": {"crf": -1}}, "output.crf"),
        ({"clips": [{"url": "a"}], "output": {"preset": "placebo"}}, "output.preset"),
        ({"clips": [{"url": "a"}], "output": {"format": "hls"}}, "output.format"),
        ({"clips": [{"url": "a"}], "output": {"codec": "libx264 -y /etc/x"}}, "output.codec"),
        ({"clips": [{"url": "a"}], "audio": {"music_volume": "loud"}}, "audio.music_volume"),
    ],
)
def test_refusals_name_the_field(document: Any, field: str) -> None:
    """B1 (types, unknown keys, missing clips), B2 (negative, NaN, Infinity), B8 (output
    allowlist), S3 (font, colour, position, transition, size injections): VALIDATION_ERROR
    naming the field (moved from tests/unit/test_schema.py)."""
    error = shape_refused(document)
    assert error.details["field"] == field, error.details
    assert error.message.startswith(f"{field}: ")


# -- B2, B9 in the timeline rules (moved from tests/unit/test_timeline.py) --------------------

TIMELINE_DURATIONS = {"a": 8000, "b": 5000, "c": 3000, "m": 20000, "v": 4000}


def timeline_refused(
    clips: list[dict[str, Any]], limits: Limits | None = None, **extra: Any
) -> str:
    with pytest.raises(InvalidTimeline) as err:
        plan(parse_composition({"clips": clips, **extra}), TIMELINE_DURATIONS, limits or Limits())
    assert err.value.code == "INVALID_TIMELINE"
    message = err.value.message
    assert message.startswith(err.value.details["field"] + ":")
    return message


@pytest.mark.parametrize(
    ("clips", "field", "words"),
    [
        ([{"url": "a", "trim_start": 2, "trim_end": 1}], "clips[0].trim_end", "after trim_start"),
        ([{"url": "a", "start_time": 2, "end_time": 1}], "clips[0].end_time", "after start_time"),
        ([{"url": "a", "trim_end": 9}], "clips[0].trim_end", "past the source's end (8 s)"),
        ([{"url": "a", "trim_start": 9}], "clips[0].trim_start", "past the source's end"),
        (
            [{"url": "a", "start_time": 0, "end_time": 2, "trim_start": 0, "trim_end": 3}],
            "clips[0].end_time",
            "differs from trim_end - trim_start",
        ),
        (
            [{"url": "a", "trim_end": 2}, {"url": "b", "start_time": 1}],
            "clips[1].start_time",
            "overlaps clips[0]",
        ),
        (
            [
                {"url": "a", "trim_end": 2},
                {"url": "b", "start_time": 1, "transition_in": "crossfade"},
            ],
            "clips[1].start_time",
            "must start 0.5 s before clips[0] ends, at 1.5",
        ),
        (
            [{"url": "a", "transition_in": "crossfade"}],
            "clips[0].transition_in",
            "first clip cannot use crossfade",
        ),
        (
            [
                {"url": "a", "trim_end": 1},
                {"url": "b", "transition_in": "crossfade", "transition_duration": 2},
            ],
            "clips[1].transition_duration",
            "longer than clips[0] (1 s)",
        ),
        (
            [
                {"url": "a", "trim_end": 3},
                {
                    "url": "b",
                    "trim_end": 1,
                    "transition_in": "crossfade",
                    "transition_duration": 2,
                },
            ],
            "clips[1].transition_duration",
            "longer than clips[1] (1 s)",
        ),
        (
            [
                {"url": "a", "trim_end": 3},
                {
                    "url": "b",
                    "trim_end": 1,
                    "transition_in": "crossfade",
                    "transition_duration": 0.6,
                },
                {
                    "url": "c",
                    "trim_end": 2,
                    "transition_in": "crossfade",
                    "transition_duration": 0.6,
                },
            ],
            "clips[1].transition_duration",
            "transitions into and out of clips[1]",
        ),
        (
            [{"url": "a", "transition_in": "fade", "transition_duration": 0}],
            "clips[0].transition_duration",
            "above 0",
        ),
    ],
)
def test_refusals_name_the_clip_and_field(
    clips: list[dict[str, Any]], field: str, words: str
) -> None:
    """B2: every timeline rule, INVALID_TIMELINE naming clip and field, including the
    probe-time one (trim_end past the source's end)."""
    message = timeline_refused(clips)
    assert message.startswith(f"{field}: "), message
    assert words in message


def test_total_over_the_maximum_is_refused() -> None:
    """B2, B6(b): a total over MAX_DURATION_SECONDS."""
    message = timeline_refused([{"url": "m"}], Limits(max_duration_ms=10_000))
    assert "over MAX_DURATION_SECONDS (10 s)" in message


@pytest.mark.parametrize(
    ("overlay", "field"),
    [
        ({"content": "x", "start_time": 3}, "overlays[0].start_time"),
        ({"content": "x", "start_time": 2, "duration": 5}, "overlays[0].duration"),
        ({"content": "x", "duration": 0}, "overlays[0].duration"),
        ({"content": "   "}, "overlays[0].content"),
        ({"content": "nul\x00byte"}, "overlays[0].content"),
        ({"content": "lone \ud800 surrogate"}, "overlays[0].content"),
        ({"content": "x" * 501}, "overlays[0].content"),
        (
            {"content": "x", "duration": 1, "style": {"fade_in": 0.6, "fade_out": 0.6}},
            "overlays[0].style.fade_in",
        ),
    ],
)
def test_overlay_refusals(overlay: dict[str, Any], field: str) -> None:
    """B2 (overlay start past the end, end before start), B9 (blank, NUL, lone surrogate,
    over MAX_TEXT_CHARS)."""
    assert timeline_refused([{"url": "c"}], overlays=[overlay]).startswith(field)


# -- B3, S4, S10: the URL policy (moved from tests/runner/test_input_policy.py) --------------

POLICY_FIELD = "clips[3].url"
ALLOWED = "{allowed}"  # replaced by the allowed directory of each test


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    path = tmp_path / "allowed"
    path.mkdir()
    (path / "escape.mp4").symlink_to("/etc/passwd")
    return path


@pytest.fixture
def policy_settings(allowed: Path) -> Settings:
    return Settings(
        allowed_s3_buckets=("ok-bucket", "allowed"),
        allowed_url_hosts=(
            "media.example.com",
            "cdn.example.com:8443",
            "127.0.0.1:9000",
            "169.254.169.254",
            "[::1]:8080",
            "metadata.google.internal",
        ),
        allowed_local_dirs=(allowed,),
    )


REFUSED = [
    # schemes and protocol tricks (B3)
    "ftp://media.example.com/a.mp4",
    "gopher://media.example.com/",
    "data:video/mp4;base64,AAAA",
    "concat:a.mp4|b.mp4",
    "subfile,,start,0,end,100,,:/etc/passwd",
    "file:/etc/passwd",
    "file:relative.mp4",
    "relative/clip.mp4",
    "/absolute/clip.mp4",
    "",
    "s3://ok-bucket/" + "k" * 5000,
    # argv and control characters (S4)
    "-i",
    "-f lavfi",
    " s3://ok-bucket/x.mp4",
    "s3://ok-bucket/x.mp4 ",
    "s3://ok-bucket/x\nfile '/etc/passwd'",
    "s3://ok-bucket/x\r.mp4",
    "s3://ok-bucket/x\x00.mp4",
    "s3://ok-bucket/x%00.mp4",
    "s3://ok-bucket/x\u2028.mp4",
    "https://media.example.com/a\n.mp4",
    # s3 (B3, S10)
    "s3:/ok-bucket/key.mp4",
    "s3://ok-bucket",
    "s3://ok-bucket/",
    "s3://not-allowed/x.mp4",
    "s3://Ok-Bucket/x.mp4",
    "s3://user@ok-bucket/x.mp4",
    "s3://ok-bucket:443/x.mp4",
    "s3://allowed/../other/x.mp4",
    "s3://allowed/a/../../b.mp4",
    "s3://allowed/./b.mp4",
    "s3://allowed/%2e%2e/x.mp4",
    "s3://allowed/%2E%2E/x.mp4",
    "s3://allowed/a%2f..%2fb.mp4",
    "s3://allowed//etc/passwd",
    "s3://allowed/a//b.mp4",
    "s3://allowed/a\\b.mp4",
    "s3://allowed/a%5c..%5cb.mp4",
    # http hosts (S7 forms, minus callbacks)
    "http://evil.example.org/a.mp4",
    "http://user:pass@media.example.com/a.mp4",
    "http://user@media.example.com/a.mp4",
    "http://media.example.com:99999/a.mp4",
    "http://media.example.com:port/a.mp4",
    "https://cdn.example.com/x.mp4",  # listed for 8443 only
    "http:///a.mp4",
    "http://127.0.0.1/a.mp4",
    "http://127.0.0.1:9001/a.mp4",
    "http://127.1:9000/a.mp4",
    "http://2130706433:9000/a.mp4",
    "http://0x7f000001:9000/a.mp4",
    "http://localhost:9000/a.mp4",
    "http://169.254.169.254/latest/meta-data/",  # listed, but internal without a port
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::1]/a.mp4",
    "http://[::ffff:127.0.0.1]:9000/a.mp4",
    "http://[fe80::1%25eth0]/a.mp4",
    # local files (B3)
    "file:///etc/passwd",
    "file://otherhost" + ALLOWED + "/a.mp4",
    "file://" + ALLOWED + "/../../etc/passwd",
    "file://" + ALLOWED + "/%2e%2e/x.mp4",
    "file://" + ALLOWED + "/escape.mp4",  # a symlink out of the allowed directory
    "file://" + ALLOWED + "/a.mp4?x=1",
    "file://" + ALLOWED + "/a%00.mp4",
    "file://" + ALLOWED + "-sibling/a.mp4",
]

ACCEPTED = [
    "s3://ok-bucket/clip.mp4",
    "s3://ok-bucket/-i",
    "s3://ok-bucket/a b -f lavfi.mp4",
    "s3://ok-bucket/it's a clip.mp4",
    "s3://allowed/deep/er/clip.mov",
    "https://media.example.com/a.mp4",
    "http://media.example.com:8080/a.mp4?sig=abc#t=1",
    "HTTPS://MEDIA.EXAMPLE.COM/a.mp4",
    "https://media.example.com./a.mp4",
    "https://cdn.example.com:8443/x.mp4",
    "http://127.0.0.1:9000/a.mp4",
    "http://[::1]:8080/a.mp4",
    "file://" + ALLOWED + "/a.mp4",
    "file://localhost" + ALLOWED + "/sub/a%20b.mp4",
]


def _url(template: str, allowed: Path) -> str:
    return template.replace(ALLOWED, str(allowed))


@pytest.mark.parametrize("template", REFUSED)
def test_refused(template: str, policy_settings: Settings, allowed: Path) -> None:
    """B3, S4, S10: every refused URL form, INVALID_CLIP_FORMAT naming the field, no path
    echoed (moved, with the rest of this section, from tests/runner/test_input_policy.py)."""
    with pytest.raises(InvalidClipFormat) as caught:
        check_url(_url(template, allowed), policy_settings, field=POLICY_FIELD)
    assert caught.value.code == "INVALID_CLIP_FORMAT"
    assert caught.value.details == {"field": POLICY_FIELD}
    assert caught.value.message.startswith(f"{POLICY_FIELD}: ")
    assert "\n" not in caught.value.message and str(allowed) not in caught.value.message


@pytest.mark.parametrize("template", ACCEPTED)
def test_accepted(template: str, policy_settings: Settings, allowed: Path) -> None:
    """B3, S4: option-like and quoted keys are fine: they never reach argv (test_security)."""
    check_url(_url(template, allowed), policy_settings, field=POLICY_FIELD)


def test_nothing_is_allowed_by_default(allowed: Path) -> None:
    for url in (
        "s3://ok-bucket/a.mp4",
        "https://media.example.com/a.mp4",
        f"file://{allowed}/a.mp4",
    ):
        with pytest.raises(InvalidClipFormat):
            check_url(url, Settings(), field=POLICY_FIELD)


def test_a_symlinked_allowed_dir_is_compared_by_real_path(tmp_path: Path, allowed: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(allowed)
    settings = Settings(allowed_local_dirs=(alias,))
    check_url(f"file://{allowed}/a.mp4", settings, field=POLICY_FIELD)
    check_url(f"file://{alias}/a.mp4", settings, field=POLICY_FIELD)


def test_realpath_is_what_counts(tmp_path: Path, allowed: Path) -> None:
    inside = allowed / "inside.mp4"
    (tmp_path / "outside.mp4").write_bytes(b"x")
    inside.symlink_to(allowed / "real.mp4")  # dangling but inside: fine statically
    settings = Settings(allowed_local_dirs=(allowed,))
    check_url(f"file://{inside}", settings, field=POLICY_FIELD)
    os.remove(inside)
    inside.symlink_to(tmp_path / "outside.mp4")
    with pytest.raises(InvalidClipFormat):
        check_url(f"file://{inside}", settings, field=POLICY_FIELD)


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("text.mp4", "Invalid data found when processing input"),
        ("jpeg.mp4", "format jpeg_pipe is not accepted"),
        ("archive.mp4", "Invalid data found when processing input"),
        ("hls.mp4", "is not accepted"),
        ("concat.mov", "format concat is not accepted"),
        ("dash.mp4", "Invalid data found when processing input"),
        ("truncated.mp4", "moov atom not found"),
    ],
)
async def test_non_media_is_refused(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings], name: str, reason: str
) -> None:
    """B4, B7: non-media in disguise and a truncated MP4 are INVALID_CLIP_FORMAT at the
    probe, with no path in the message (moved from tests/runner/test_probe.py)."""
    with pytest.raises(InvalidClipFormat) as caught:
        await probe(probe_media[name], runner_settings(), field=PROBE_FIELD)
    err = caught.value
    assert err.code == "INVALID_CLIP_FORMAT" and err.details == {"field": PROBE_FIELD}
    assert err.message.startswith(f"{PROBE_FIELD}: not a decodable video or audio file (")
    assert reason in err.message
    assert str(probe_media[name].parent) not in err.message and "/" not in err.message


@pytest.mark.ffmpeg
async def test_validation_off_still_refuses_non_media(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings]
) -> None:
    """B4: the allow-lists hold even with RUN_FFPROBE_VALIDATION off."""
    relaxed = runner_settings(run_ffprobe_validation=False)
    for name in ("hls.mp4", "truncated.mp4"):
        with pytest.raises(InvalidClipFormat):
            await probe(probe_media[name], relaxed, field=PROBE_FIELD)


@pytest.mark.ffmpeg
@pytest.mark.S
async def test_a_file_named_like_an_option(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """S4: a staged file named like an option is probed as a file."""
    odd = tmp_path / "-i:x.mp4"
    odd.write_bytes(probe_media["av.mp4"].read_bytes())
    assert (await probe(odd, runner_settings(), field=PROBE_FIELD)).has_video
