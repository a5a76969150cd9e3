"""RELIABILITY.md Part B, group B (bad input): B1–B4, B6(b–d), B7–B10.

Codes, as README records (a deliberate deviation from RELIABILITY.md): malformed shapes are SPEC's
400 VALIDATION_ERROR, refused URLs 400 INVALID_CLIP_FORMAT, timeline rules 400 INVALID_TIMELINE,
each naming the field; a download that times out is SPEC's INPUT_UNAVAILABLE, not STORAGE_ERROR.
B5 and B6(a) (pixel, stream, duration and size caps at the probe) are tests/acceptance/reliability/
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

from tests.support.media import make_video
from tests.support.processes import is_alive
from tests.support.real_app import POST, App

pytestmark = pytest.mark.B


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
    """B1: invalid JSON or not an object."""
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
            ),  # it would start before 0 (found by tests/acceptance/property)
            (
                {"clips": [{"url": url, "trim_end": 0.05}], "output": {"fps": 10}},
                "INVALID_TIMELINE",
                "clips",
            ),  # shorter than one frame: nothing to encode (found by tests/acceptance/property)
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
    # a JPEG is a still since issue 12: named like a video and given no length, it is refused
    # as a still without a duration
    cases += [({"url": (clips / "jpeg.mp4").as_uri()}, "INVALID_TIMELINE")]
    cases += [
        ({"url": (clips / name).as_uri()}, "INVALID_CLIP_FORMAT")
        for name in (
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
