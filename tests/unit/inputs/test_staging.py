"""stage(): local files as symlinks, downloads from a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import ResolveResult
from aiohttp.test_utils import TestServer

from tests.support.ports import free_port
from vidsvc.config import Settings
from vidsvc.errors import InputUnavailable, InvalidClipFormat, StorageError, VidsvcError
from vidsvc.inputs import network, staging
from vidsvc.inputs.staging import MAX_PARALLEL_DOWNLOADS, stage

BODY = bytes(range(256)) * 400  # 100 KiB
ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "job"
    path.mkdir()
    return path


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    path = tmp_path / "allowed"
    path.mkdir()
    (path / "clip.mp4").write_bytes(BODY)
    return path


class Stats:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.in_flight = self.max_in_flight = 0


async def _slow(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    for _ in range(100):  # ends when the client goes away
        await resp.write(b"x" * 10)
        await asyncio.sleep(0.05)
    return resp


async def _chunked(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for _ in range(10):
        await resp.write(b"y" * 1000)
    return resp


@pytest.fixture
async def server(aiohttp_server: ServerFactory) -> tuple[TestServer, Stats]:
    stats = Stats()

    async def clip(request: web.Request) -> web.Response:
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        await asyncio.sleep(0.05)
        stats.in_flight -= 1
        return web.Response(body=BODY)

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        stats.requests.append(request.path)
        response: web.StreamResponse = await handler(request)
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/clip.mp4")

    async def fail(request: web.Request) -> web.Response:
        raise web.HTTPInternalServerError()

    app = web.Application(middlewares=[count])
    app.router.add_get(r"/clip{n:\d*}.mp4", clip)
    app.router.add_get("/redirect.mp4", redirect)
    app.router.add_get("/error.mp4", fail)
    app.router.add_get("/slow.mp4", _slow)
    app.router.add_get("/chunked.mp4", _chunked)
    return await aiohttp_server(app, host="127.0.0.1"), stats


def _settings(server: TestServer | None = None, **kw: Any) -> Settings:
    hosts = (f"127.0.0.1:{server.port}",) if server else ()
    return Settings(**{"allowed_url_hosts": hosts, **kw})


async def test_local_files_become_symlinks(workdir: Path, allowed: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    url = f"file://{allowed}/clip.mp4"
    other = allowed / "voice"
    other.write_bytes(b"v" * 10)
    settings = _settings(allowed_local_dirs=(allowed,))
    staged = await stage(
        [url, f"file://{other}", url], workdir, settings, on_bytes=lambda *a: seen.append(a)
    )
    assert staged == {url: workdir / "in0.mp4", f"file://{other}": workdir / "in1.bin"}
    assert staged[url].is_symlink() and staged[url].resolve() == allowed / "clip.mp4"
    assert seen[-1] == (len(BODY) + 10, len(BODY) + 10)


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("missing.mp4", InputUnavailable, "the file cannot be read (No such file or directory)"),
        ("dir.mp4", InvalidClipFormat, "not a regular file"),
        ("out.mp4", InvalidClipFormat, "the file is not under a directory in ALLOWED_LOCAL_DIRS"),
    ],
)
async def test_local_file_problems(
    workdir: Path,
    allowed: Path,
    tmp_path: Path,
    name: str,
    error: type[VidsvcError],
    words: str,
) -> None:
    (allowed / "dir.mp4").mkdir()
    (tmp_path / "outside.mp4").write_bytes(b"x")
    (allowed / "out.mp4").symlink_to(tmp_path / "outside.mp4")
    settings = _settings(allowed_local_dirs=(allowed,))
    fields = {f"file://{allowed}/{name}": "clips[2].url"}
    with pytest.raises(error) as caught:
        await stage(list(fields), workdir, settings, fields=fields)
    assert caught.value.details == {"field": "clips[2].url"}
    assert caught.value.message == f"clips[2].url: {words}"
    assert list(workdir.iterdir()) == []


async def test_a_file_swapped_for_a_link_after_the_check_is_refused(
    workdir: Path, allowed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(allowed_local_dirs=(allowed,))
    checked = staging.checked

    def check_then_swap(*args: Any) -> Any:
        source = checked(*args)
        (allowed / "clip.mp4").unlink()
        (allowed / "clip.mp4").symlink_to("/etc/passwd")
        return source

    monkeypatch.setattr(staging, "checked", check_then_swap)
    with pytest.raises(InvalidClipFormat, match="not under a directory"):
        await stage([f"file://{allowed}/clip.mp4"], workdir, settings)
    assert list(workdir.iterdir()) == []


async def test_a_large_local_file_is_refused(workdir: Path, allowed: Path) -> None:
    settings = _settings(allowed_local_dirs=(allowed,), max_input_bytes=1000)
    with pytest.raises(InvalidClipFormat, match="too large"):
        await stage([f"file://{allowed}/clip.mp4"], workdir, settings)


async def test_s3_is_not_configured_yet(workdir: Path) -> None:
    with pytest.raises(StorageError, match="AWS_S3_BUCKET"):
        await stage(["s3://bkt/k.mp4"], workdir, _settings(allowed_s3_buckets=("bkt",)))


async def test_http_download(workdir: Path, server: tuple[TestServer, Stats]) -> None:
    srv, _ = server
    seen: list[tuple[int, int | None]] = []
    url = str(srv.make_url("/clip.mp4"))
    staged = await stage([url], workdir, _settings(srv), on_bytes=lambda *a: seen.append(a))
    assert staged == {url: workdir / "in0.mp4"}
    assert staged[url].read_bytes() == BODY
    assert seen[-1] == (len(BODY), len(BODY))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_downloads_run_concurrently_but_bounded(
    workdir: Path, server: tuple[TestServer, Stats]
) -> None:
    srv, stats = server
    urls = [str(srv.make_url(f"/clip{i}.mp4")) for i in range(9)]
    staged = await stage(urls, workdir, _settings(srv))
    assert sorted(p.name for p in staged.values()) == sorted(f"in{i}.mp4" for i in range(9))
    assert 1 < stats.max_in_flight <= MAX_PARALLEL_DOWNLOADS


@pytest.mark.parametrize("listed", [(), ("127.0.0.1",), ("127.0.0.1:1",)])
async def test_loopback_needs_the_exact_host_and_port(
    workdir: Path, server: tuple[TestServer, Stats], listed: tuple[str, ...]
) -> None:
    srv, stats = server
    with pytest.raises(InvalidClipFormat):
        await stage([str(srv.make_url("/clip.mp4"))], workdir, Settings(allowed_url_hosts=listed))
    assert stats.requests == []


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/nothing.mp4", "HTTP 404 from 127.0.0.1"),
        ("/error.mp4", "HTTP 500 from 127.0.0.1"),
        ("/redirect.mp4", "HTTP 302 redirect (redirects are not followed)"),
    ],
)
async def test_http_failures_are_input_unavailable(
    workdir: Path, server: tuple[TestServer, Stats], path: str, words: str
) -> None:
    srv, stats = server
    url = str(srv.make_url(path))
    with pytest.raises(InputUnavailable) as caught:
        await stage([url], workdir, _settings(srv), fields={url: "audio.music_url"})
    assert caught.value.message == f"audio.music_url: {words}"
    assert caught.value.details == {"field": "audio.music_url"}
    assert stats.requests == [path]  # the redirect was not followed
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("path", ["/clip.mp4", "/chunked.mp4"])
async def test_oversize_downloads_are_refused(
    workdir: Path, server: tuple[TestServer, Stats], path: str
) -> None:
    srv, _ = server
    with pytest.raises(InvalidClipFormat, match="too large"):
        await stage([str(srv.make_url(path))], workdir, _settings(srv, max_input_bytes=5000))
    assert list(workdir.iterdir()) == []


async def test_slow_download_times_out(workdir: Path, server: tuple[TestServer, Stats]) -> None:
    srv, _ = server
    started = time.monotonic()
    with pytest.raises(InputUnavailable, match=r"download timed out after 0\.5 s"):
        await stage(
            [str(srv.make_url("/slow.mp4"))], workdir, _settings(srv, download_timeout=0.5)
        )
    assert time.monotonic() - started < 3
    assert list(workdir.iterdir()) == []


async def test_first_failure_cancels_the_rest(
    workdir: Path, server: tuple[TestServer, Stats]
) -> None:
    srv, _ = server
    urls = [str(srv.make_url("/slow.mp4")), str(srv.make_url("/nothing.mp4"))]
    started = time.monotonic()
    with pytest.raises(InputUnavailable, match="HTTP 404"):
        await stage(urls, workdir, _settings(srv))
    assert time.monotonic() - started < 3
    assert list(workdir.iterdir()) == []


async def test_connection_refused(workdir: Path) -> None:
    port = free_port()  # nobody listens on it
    settings = Settings(allowed_url_hosts=(f"127.0.0.1:{port}",))
    with pytest.raises(InputUnavailable, match=f"cannot connect to 127.0.0.1:{port}"):
        await stage([f"http://127.0.0.1:{port}/a.mp4"], workdir, settings)


def _answers(ip: str) -> Callable[[str, int], Awaitable[list[ResolveResult]]]:
    async def resolve(host: str, port: int) -> list[ResolveResult]:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=family,
                proto=6,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    return resolve


async def test_names_connect_to_the_checked_address(
    workdir: Path, server: tuple[TestServer, Stats], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv, _ = server
    monkeypatch.setattr(network, "resolve", _answers("127.0.0.1"))  # media.test is made up
    url = f"http://media.test:{srv.port}/clip.mp4"
    staged = await stage([url], workdir, Settings(allowed_url_hosts=(f"media.test:{srv.port}",)))
    assert staged[url].read_bytes() == BODY


@pytest.mark.parametrize(
    "ip", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00:ec2::254"]
)
async def test_names_resolving_inside_are_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, ip: str
) -> None:
    monkeypatch.setattr(network, "resolve", _answers(ip))
    settings = Settings(allowed_url_hosts=("media.test",))
    with pytest.raises(InvalidClipFormat, match="resolves to an internal address"):
        await stage(["https://media.test/a.mp4"], workdir, settings)


async def test_unresolvable_host(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def nxdomain(host: str, port: int) -> list[ResolveResult]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(network, "resolve", nxdomain)
    settings = Settings(allowed_url_hosts=("media.test",))
    with pytest.raises(InputUnavailable, match=r"host media\.test cannot be resolved"):
        await stage(["https://media.test/a.mp4"], workdir, settings)


async def test_bad_urls_are_refused_before_any_fetch(
    workdir: Path, server: tuple[TestServer, Stats]
) -> None:
    srv, stats = server
    urls = [str(srv.make_url("/clip.mp4")), "ftp://127.0.0.1/x.mp4"]
    with pytest.raises(InvalidClipFormat, match=r"^inputs\[1\]: scheme 'ftp'"):
        await stage(urls, workdir, _settings(srv))
    assert stats.requests == []
