"""RELIABILITY.md Part B, group S (security): S1–S5 and S7–S11, with the real FFmpeg.

S6 (resource limits on FFmpeg) is another suite's: tests/reliability/test_limits.py.
The URL forms of S4 and S10 (argv tokens, control characters, bucket allowlist, key traversal)
are the table of tests/reliability/test_bad_input.py::test_refused (shared with B3).
"""

from __future__ import annotations

import ast
import asyncio
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.render.conftest import Render, render_doc
from tests.support.callback_sink import (
    Receiver,
    callback_note,
    deps_for,
    quick_backoff,
    receiver,
)
from tests.support.media import FAST, Frame, ffmpeg, frame_at
from vidsvc import graph
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, InvalidTimeline, ValidationError
from vidsvc.graph.escape import escape_graph, escape_option, filter_args
from vidsvc.http import create_app
from vidsvc.runner import addresses, callbacks
from vidsvc.runner.addresses import is_internal_host
from vidsvc.runner.download import PinnedResolver
from vidsvc.runner.render import render
from vidsvc.schema import parse_composition
from vidsvc.store.disk import LocalBlobStore

__all__ = ["quick_backoff", "receiver", "render_doc"]  # fixtures from elsewhere

pytestmark = pytest.mark.S
Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
ROOT = Path(__file__).resolve().parents[2]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
STYLE = {"size": 22, "color": "white"}
SPECIALS = "':\\,;[]=%{}\n\t\"`"


# -- S1: drawtext escaping and quote breakout ---------------------------------------------------

OPTION_TABLE = [
    ("\\", "\\\\"),
    ("'", "\\'"),
    (":", "\\:"),
    ("[", "["),
    ("]", "]"),
    (",", ","),
    (";", ";"),
    ("=", "="),
    ("%", "%"),
    ("{", "{"),
    (" ", " "),
    ("a", "a"),
    ("é", "é"),
]
GRAPH_TABLE = [
    ("\\", "\\\\"),
    ("'", "\\'"),
    ("[", "\\["),
    ("]", "\\]"),
    (",", "\\,"),
    (";", "\\;"),
    (":", ":"),
    ("=", "="),
    ("%", "%"),
    (" ", " "),
    ("a", "a"),
]


@pytest.mark.parametrize(("char", "escaped"), OPTION_TABLE)
def test_option_level(char: str, escaped: str) -> None:
    """S1: the option-level escaping table (values inside one filter's arguments)."""
    assert escape_option(char) == escaped


@pytest.mark.parametrize(("char", "escaped"), GRAPH_TABLE)
def test_graph_level(char: str, escaped: str) -> None:
    """S1: the graph-level escaping table (the filtergraph string around the arguments)."""
    assert escape_graph(char) == escaped


def test_filter_args_applies_both_levels_in_order() -> None:
    """S1: option level first, then graph level."""
    args = (("enable", "between(t,1,2)"), ("fontfile", "/f/a:b's.ttf"), ("", "x"))
    assert filter_args(args) == ("enable=between(t\\,1\\,2):fontfile=/f/a\\\\:b\\\\\\'s.ttf:x")


@pytest.mark.ffmpeg
@pytest.mark.parametrize("value", ["a:b", "it's", "x[1],y;z", "back\\slash", "%{pts}", "é ü"])
def test_ffmpeg_reads_back_the_exact_value(tmp_path: Path, value: str) -> None:
    """S1: FFmpeg's parser recovers the value: a missing textfile is echoed back in the error."""
    graph_text = f"color=s=16x16:d=0.1,drawtext={filter_args((('textfile', value),))}"
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-f", "lavfi", "-i", graph_text, "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert f"'{value}'" in proc.stderr, proc.stderr[-500:]


def _compiled(text: str) -> graph.Command:
    """The command for one 1 s clip with `text` drawn over it (no I/O)."""
    comp = parse_composition({"clips": [{"url": "a"}], "overlays": [{"content": text}]})
    limits = graph.Limits()
    graph.check(comp, limits)
    timeline = graph.plan(comp, {"a": 1000}, limits)
    sources = {
        "a": graph.Source(name="in_0.mp4", duration_ms=1000, has_video=True, has_audio=True)
    }
    built = graph.build(timeline, comp, sources, {comp.overlays[0].style.font: FONT})
    return graph.compile_command(built, graph.Encoding(duration_ms=timeline.duration_ms))


@hsettings(max_examples=300, deadline=None, database=None)
@given(
    st.text(alphabet=st.sampled_from([*SPECIALS, "a", " ", "x", "é", "\r", "\x00"]), max_size=40)
)
def test_special_characters_never_reach_the_graph(text: str) -> None:
    """S1 fuzz: any text over `' : \\ , ; [ ] = % { } \\n \\t` and quotes is refused with a
    4xx (empty, control characters) or compiles to exactly the graph of a plain text, the
    text living only in its side file."""
    try:
        command = _compiled(text)
    except (InvalidTimeline, ValidationError) as exc:
        assert exc.http_status == 400 and exc.details["field"] == "overlays[0].content"
        return
    plain = _compiled("x")
    assert command.argv == plain.argv  # the text changes nothing in the command
    assert [v for k, v in command.files.items() if k != "text0.txt"] == []
    assert command.files["text0.txt"] == text.replace("\r\n", "\n").replace("\r", "\n")


def _strace_wrapper(tmp_path: Path) -> tuple[Path, Path | None]:
    """An FFMPEG_BIN that runs the real FFmpeg under strace, logging every file it opens
    (without strace: FFmpeg bare, and the log is None)."""
    log = tmp_path / "opens.log"
    wrapper = tmp_path / "ffmpeg-traced"
    if shutil.which("strace") is None:
        wrapper.write_text('#!/bin/sh\nexec ffmpeg "$@"\n')
    else:
        wrapper.write_text(
            f'#!/bin/sh\nexec strace -f -qq -e trace=open,openat,openat2 -o {log} ffmpeg "$@"\n'
        )
    wrapper.chmod(0o755)
    return wrapper, (log if shutil.which("strace") else None)


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    "template",
    [
        "x',drawtext=textfile={canary}:y=0,null='",
        "x'[out];movie={canary}[m];[out][m]overlay",
        "a\\'b:textfile={canary},c;d[e]=%{{eif:7*6:d}}\"\n\tz",
    ],
)
async def test_ffmpeg_never_opens_the_canary(
    make_settings: Callable[..., Settings], gray: Path, tmp_path: Path, template: str
) -> None:
    """S1: a breakout attempt renders (or is refused) and FFmpeg never opens the canary file."""
    canary = Path(f"/tmp/canary-{secrets.token_hex(6)}")
    canary.write_text("CANARY must not be read")
    try:
        wrapper, log = _strace_wrapper(tmp_path)
        comp = parse_composition(
            {
                "clips": [{"url": gray.as_uri()}],
                "overlays": [{"content": template.format(canary=canary), "style": STYLE}],
                "output": {"resolution": "180p", "fps": 10},
            }
        )
        out = tmp_path / "out.mp4"
        result = await render(
            comp,
            make_settings(FFMPEG_BIN=str(wrapper)),
            video_out=out,
            thumbnail_out=tmp_path / "out.jpg",
        )
    finally:
        canary.unlink()
    if log is not None:
        opened = log.read_text()
        assert FONT in opened  # the trace saw the files FFmpeg did open
        assert str(canary) not in opened
    assert "Cannot read file" not in result.ffmpeg.stderr_tail
    graph_text = result.argv[result.argv.index("-filter_complex") + 1]
    assert graph_text.count("drawtext=") == 1 and "movie=" not in graph_text
    assert str(canary) not in " ".join(result.argv)


# -- S1/S2: the text is drawn literally (moved from tests/render/test_text_literal.py) --------


@pytest.fixture(scope="module")
def gray(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "gray.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x808080:s=320x180:r=10:d=1", *FAST, str(path))
    return path


def reference(tmp_path: Path, text: str) -> Frame:
    """The same text drawn by a plain FFmpeg command (textfile, expansion=none)."""
    (tmp_path / "ref.txt").write_text(text, encoding="utf-8")
    drawtext = (
        f"drawtext=fontfile={FONT}:textfile={tmp_path}/ref.txt:expansion=none:fontsize=22:"
        "fontcolor=0xFFFFFFFF:x=(w-text_w)/2:y=(h-text_h)/2:fix_bounds=1"
    )
    out = tmp_path / "ref.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=0x808080:s=320x180:r=10:d=1",
        "-vf",
        drawtext,
        *FAST,
        str(out),
    )
    return frame_at(out, 0.5)


async def drawn(render_doc: Render, gray: Path, text: str) -> tuple[Frame, tuple[str, ...]]:
    result = await render_doc(
        {"clips": [{"url": gray}], "overlays": [{"content": text, "style": STYLE}]}
    )
    return frame_at(result.video, 0.5), result.argv


CANARY = "/tmp/vidsvc-canary-must-not-be-read"
TEXTS = {
    "specials": ("it's: 100% {ok} [a], b; c\\d", "its 100 ok a b cd"),
    "quotes": ("\"double\" and 'single' quotes", "double and single quotes"),
    "cyrillic_greek": ("Привет, мир — Γειά σου", "Привет мир Γειά"),
    "expansion": ("%{eif:7*6:d}", "42"),
    "localtime": ("%{localtime} %{pts}", "localtime pts"),
    "metadata": ("%{metadata:title} %{e:1/0} %{pts:gmtime:0:%F}", "metadata title"),
    "breakout_filter": (f"x',drawtext=textfile={CANARY}:y=0,null='", "x"),
    "breakout_label": (f"x'[out];movie={CANARY}[m];[out][m]overlay", "x out"),
    "rtl_emoji": ("שלום 👋", "שלום"),
}


@pytest.mark.ffmpeg
@pytest.mark.B
@pytest.mark.parametrize("case", list(TEXTS))
async def test_text_renders_literally(
    render_doc: Render, gray: Path, tmp_path: Path, case: str
) -> None:
    """S1, S2, B9: the frame equals a reference drawn from the same bytes with
    expansion=none, and clearly differs from a slightly different text (`%{eif:7*6:d}` is
    not drawn as 42)."""
    text, other = TEXTS[case]
    ours, argv = await drawn(render_doc, gray, text)
    same = ours.diff(reference(tmp_path, text))
    different = ours.diff(reference(tmp_path, other))
    assert same < 1.0, (case, same)
    assert different > 3 * same + 0.3, (case, same, different)
    graph_text = argv[argv.index("-filter_complex") + 1]
    assert graph_text.count("drawtext=") == 1 and "movie=" not in graph_text
    assert CANARY not in graph_text
    assert not Path(CANARY).exists()


@pytest.mark.ffmpeg
@pytest.mark.B
async def test_newlines_render_as_line_breaks(
    render_doc: Render, gray: Path, tmp_path: Path
) -> None:
    """B9 (`\\r\\n`): drawn as one line break."""
    ours, _ = await drawn(render_doc, gray, "top\r\nbottom")
    assert ours.diff(reference(tmp_path, "top\nbottom")) < 1.0
    assert ours.diff(reference(tmp_path, "top bottom")) > 1.0


# -- S3: the other filtergraph-bearing fields -------------------------------------------------
# Covered by tests/reliability/test_bad_input.py::test_refusals_name_the_field (font, colour,
# position, transition and size injections are VALIDATION_ERROR naming the field).


# -- S4: argv, concat lists, shells -----------------------------------------------------------


def _python_files() -> list[Path]:
    return sorted([*(ROOT / "vidsvc").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])


def test_no_shell_anywhere() -> None:
    """S4 (static): no shell=True, create_subprocess_shell, os.system or os.popen in vidsvc or
    bench, and `-safe` (concat's `-safe 0`) never appears in a string."""
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.keyword) and node.arg == "shell":
                if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                    found.append(f"{where} shell=")
            if isinstance(node, ast.Attribute) and (
                node.attr == "create_subprocess_shell"
                or (
                    node.attr in ("system", "popen")
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "os"
                )
            ):
                found.append(f"{where} {node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.search(r"(^|\s)-safe(\s|$)", node.value) or node.value == "-safe":
                    found.append(f"{where} -safe")
    assert len(_python_files()) > 50  # the walk saw the code
    assert found == []


@pytest.mark.ffmpeg
async def test_inputs_reach_ffmpeg_under_service_names(
    render_doc: Render, gray: Path, tmp_path: Path
) -> None:
    """S4: a clip named like options and quotes renders; the argv has only service names."""
    odd = tmp_path / "-i a b -f lavfi it's x.mp4"
    odd.write_bytes(gray.read_bytes())
    result = await render_doc({"clips": [{"url": odd}]})
    inputs = [result.argv[i + 1] for i, a in enumerate(result.argv) if a == "-i"]
    assert len(inputs) == 1 and re.fullmatch(r"[A-Za-z0-9_.-]+", inputs[0]), inputs
    assert not any(odd.name in a or "lavfi" in a or "it's" in a for a in result.argv)
    assert "-safe" not in result.argv


# -- S5: container SSRF / LFI canaries ----------------------------------------------------------


@pytest.fixture
async def listener() -> AsyncIterator[tuple[int, list[str]]]:
    """A local HTTP listener that records every request it gets."""
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="#EXTM3U\n")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1], hits
    await runner.cleanup()


def _payloads(root: Path, port: int, clip: Path) -> dict[str, Path]:
    url = f"http://127.0.0.1:{port}"
    texts = {
        "hls.mp4": f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{url}/seg.ts\n#EXT-X-ENDLIST\n",
        "hls_key.mp4": (
            "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
            f'#EXT-X-KEY:METHOD=AES-128,URI="{url}/key"\n'
            f"#EXTINF:1,\n{clip}\n#EXT-X-ENDLIST\n"
        ),
        "concat.mov": f"ffconcat version 1.0\nfile '{url}/x.mp4'\n",
        "concat_lfi.mov": "ffconcat version 1.0\nfile '/etc/passwd'\n",
        "hls_lfi.mp4": "#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
    }
    out = {}
    for name, text in texts.items():
        (root / name).write_text(text)
        out[name] = root / name
    return out


@pytest.mark.ffmpeg
async def test_playlists_and_concat_scripts_reach_nothing(
    render_doc: Render, gray: Path, tmp_path: Path, listener: tuple[int, list[str]]
) -> None:
    """S5: HLS (segments, EXT-X-KEY) and ffconcat payloads disguised as clips are
    INVALID_CLIP_FORMAT at the probe and the listener sees no connection. The neex xbin AVI
    needs an HLS or concat reference inside to reach anything, which the same demuxer and
    protocol allow-lists refuse. (RELIABILITY's "harmless container that completes" variant does
    not arise: no payload here is a container FFmpeg may open.)"""
    port, hits = listener
    for name, path in _payloads(tmp_path, port, gray).items():
        with pytest.raises(InvalidClipFormat) as caught:
            await render_doc({"clips": [{"url": path}]})
        assert caught.value.details == {"field": "clips[0].url"}, name
    await asyncio.sleep(0.2)
    assert hits == []


@pytest.mark.ffmpeg
async def test_every_input_is_opened_with_the_allow_lists(render_doc: Render, gray: Path) -> None:
    """S5, B5: every `-i` of the render follows `-protocol_whitelist file -format_whitelist …`
    and `-max_pixels`."""
    result = await render_doc({"clips": [{"url": gray}, {"url": gray}]})
    argv = list(result.argv)
    starts = [i for i, a in enumerate(argv) if a == "-i"]
    assert len(starts) >= 1
    for i in starts:
        window = argv[max(0, i - 8) : i]
        assert window[window.index("-protocol_whitelist") + 1] == "file"
        assert "-format_whitelist" in window and "-safe" not in argv
        assert "-max_pixels" in window  # B5: decoders are capped too


# -- S7: callback_url blocklist (moved from tests/runner/test_callbacks.py) ---------------------

S7_URLS = [
    "http://127.0.0.1/cb",
    "http://127.1/cb",
    "http://0/cb",
    "http://2130706433/cb",
    "http://0x7f000001/cb",
    "http://017700000001/cb",
    "http://[::1]/cb",
    "http://[::ffff:127.0.0.1]/cb",
    "http://[::169.254.169.254]/cb",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/cb",
    "http://10.0.0.1/cb",
    "http://172.16.0.1/cb",
    "http://192.168.1.1/cb",
    "http://100.64.0.1/cb",
    "http://[fc00::1]/cb",
    "http://[fe80::1%25eth0]/cb",
    "http://metadata.google.internal/computeMetadata/v1/",
    "file:///etc/passwd",
    "gopher://x/",
    "ftp://example.com/cb",
    "http://user:pw@example.com/cb",
    "http:///cb",
    "http://example.com:99999/cb",
]


@pytest.mark.parametrize("url", S7_URLS)
def test_every_internal_or_malformed_callback_url_is_refused(url: str) -> None:
    """S7: static refusals, VALIDATION_ERROR naming callback_url (README's code for it)."""
    with pytest.raises(ValidationError) as info:
        callbacks.check_callback_url(url, Settings())
    assert info.value.code == "VALIDATION_ERROR"
    assert info.value.details == {"field": "callback_url"}


def test_a_listed_internal_host_port_is_allowed_and_only_that_port() -> None:
    """S7: ALLOWED_CALLBACK_HOSTS opens exactly one host:port."""
    settings = Settings(allowed_callback_hosts=("127.0.0.1:8123",))
    callbacks.check_callback_url("http://127.0.0.1:8123/cb", settings)
    with pytest.raises(ValidationError):
        callbacks.check_callback_url("http://127.0.0.1:8124/cb", settings)
    callbacks.check_callback_url("https://example.com/cb", Settings())


async def test_a_name_resolving_to_loopback_is_refused_unless_listed() -> None:
    """S7: the check runs on the resolved addresses."""
    with pytest.raises(ValidationError) as info:
        await callbacks.check_callback_resolves("http://localhost:8123/cb", Settings(), field="f")
    assert info.value.details == {"field": "f"}
    listed = Settings(allowed_callback_hosts=("localhost:8123",))
    await callbacks.check_callback_resolves("http://localhost:8123/cb", listed)


def _answer(host: str, ip: str, port: int) -> Any:
    return {
        "hostname": host,
        "host": ip,
        "port": port,
        "family": socket.AF_INET,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }


async def test_mixed_answers_with_one_private_address_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """S7: a name whose A records mix a public and a private address is refused."""

    async def resolve(host: str, port: int) -> list[Any]:
        return [_answer(host, "93.184.216.34", port), _answer(host, "10.0.0.7", port)]

    monkeypatch.setattr(addresses, "resolve", resolve)
    with pytest.raises(ValidationError, match="internal address"):
        await callbacks.check_callback_resolves("http://mixed.test/cb", Settings())


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("8.8.8.8", False),
        ("media.example.com", False),
        ("2001:4860:4860::8888", False),
        ("127.0.0.1", True),
        ("0", True),
        ("0.0.0.0", True),
        ("017700000001", True),
        ("10.0.0.5", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),
        ("169.254.169.254", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("::1", True),
        ("::", True),
        ("::ffff:127.0.0.1", True),
        ("::169.254.169.254", True),
        ("2002:a00:1::", True),  # 6to4 around 10.0.0.1
        ("fc00::1", True),
        ("fd00:ec2::254", True),
        ("fe80::1%eth0", True),
        ("localhost", True),
        ("metadata.google.internal", True),
    ],
)
def test_internal_hosts(host: str, internal: bool) -> None:
    """S7: every literal form of an internal address (moved from test_input_policy.py)."""
    assert is_internal_host(host) is internal


# -- S8: DNS rebinding -------------------------------------------------------------------------


async def test_a_rebind_after_the_submit_check_reaches_nothing(
    receiver: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """S8: public at submit, 127.0.0.1 at send: the send re-validates and refuses for good
    (a refusal is not retried); the 127.0.0.1 sink gets no connection. (RELIABILITY's
    203.0.113.10 is TEST-NET, rightly internal here, so a global address stands in.)"""
    rec: Receiver = await receiver([200])
    calls = 0

    async def resolve(host: str, port: int) -> list[Any]:
        nonlocal calls
        calls += 1
        ip = "93.184.216.34" if calls == 1 else "127.0.0.1"
        return [_answer(host, ip, port)]

    monkeypatch.setattr(addresses, "resolve", resolve)
    url = f"http://rebind.test:{rec.port}/cb"
    deps, job = await deps_for(rec, allowed_callback_hosts=(), callback_max_attempts=3)
    await callbacks.check_callback_resolves(url, deps.settings)  # passes: public
    assert await callbacks.deliver(deps, job, url) is False
    assert rec.hits == {}
    attempts = (await callback_note(deps, job))["attempts"]
    assert len(attempts) == 1 and attempts[0]["refused"] is True
    assert calls == 2  # resolved again before sending


async def test_the_connection_goes_only_to_the_checked_address() -> None:
    """S8: the pinned resolver answers the checked addresses whatever DNS says now."""
    pinned = PinnedResolver([_answer("rebind.test", "93.184.216.34", 80)])
    answers = await pinned.resolve("rebind.test", 80, socket.AF_INET)
    assert [a["host"] for a in answers] == ["93.184.216.34"]


async def test_an_unlisted_internal_target_is_refused_at_send_time(
    receiver: Callable[..., Any],
) -> None:
    """S8: the check runs again at send time (moved from tests/runner/test_callbacks.py)."""
    rec: Receiver = await receiver([200])
    deps, job = await deps_for(rec, allowed_callback_hosts=())
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert rec.hits == {}
    [attempt] = (await callback_note(deps, job))["attempts"]
    assert "internal" in attempt["error"]


# -- S9: redirects and response handling --------------------------------------------------------


async def test_a_redirect_is_not_followed(receiver: Callable[..., Any]) -> None:
    """S9: a 302 ends the delivery as failed and its target is never requested (moved from
    tests/runner/test_callbacks.py)."""
    rec: Receiver = await receiver([302, 302])
    deps, job = await deps_for(rec)
    assert await callbacks.deliver(deps, job, rec.url()) is False
    assert "/elsewhere" not in rec.hits
    note = await callback_note(deps, job)
    assert note["attempts"][0]["status"] == 302


@pytest.fixture
async def hostile_sink() -> AsyncIterator[int]:
    """/huge streams 50 MB; /endless sends headers then never finishes the body."""

    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        chunk = b"S" * 65536
        try:
            for _ in range(800):
                await resp.write(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"E" * 100)
        await asyncio.sleep(3600)
        return resp

    app = web.Application()
    app.router.add_post("/huge", huge)
    app.router.add_post("/endless", endless)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


@pytest.mark.parametrize("path", ["/huge", "/endless"])
async def test_the_answer_is_peeked_never_stored(
    receiver: Callable[..., Any], hostile_sink: int, path: str
) -> None:
    """S9: a 50 MB body or an answer that never ends: the attempt is noted (status or timeout),
    nothing of the body is kept on the job."""
    rec: Receiver = await receiver([])
    deps, job = await deps_for(
        rec,
        allowed_callback_hosts=(f"127.0.0.1:{hostile_sink}",),
        callback_timeout=1.0,
        callback_max_attempts=1,
    )
    url = f"http://127.0.0.1:{hostile_sink}{path}"
    await callbacks.deliver(deps, job, url)
    note = await callback_note(deps, job)
    [attempt] = note["attempts"]
    assert set(attempt) <= {"at", "status", "error", "duration_ms", "refused"}
    assert "SSS" not in repr(note) and "EEE" not in repr(note)
    if path == "/endless":
        assert "Timeout" in attempt.get("error", "") or attempt.get("status") == 200


# -- S10: output confinement --------------------------------------------------------------------


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(b"video bytes")
    return path


async def test_disk_refuses_a_planted_directory_symlink(tmp_path: Path, source: Path) -> None:
    """S10: a symlink planted in the blob directory cannot redirect a write (moved from
    tests/store/test_blobstore_contract.py)."""
    store = LocalBlobStore(tmp_path / "blobs")
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "outputs").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        await store.put_file("outputs/x.mp4", source, content_type="video/mp4")
    with pytest.raises(ValueError):
        await store.put_file("outputs/deeper/x.mp4", source, content_type="video/mp4")
    assert list(outside.iterdir()) == []
    with pytest.raises(ValueError):
        store.local_path("outputs/x.mp4")


async def test_disk_refuses_a_planted_file_symlink(tmp_path: Path) -> None:
    """S10: nor make the store read or serve a file outside (moved like the above)."""
    store = LocalBlobStore(tmp_path / "blobs")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    (store.root / "leak.mp4").symlink_to(secret)
    with pytest.raises(ValueError):
        await store.get_file("leak.mp4", tmp_path / "got")
    with pytest.raises(ValueError):
        store.local_path("leak.mp4")
    assert not (tmp_path / "got").exists()


def _app_settings(tmp_path: Path, clip_dir: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "TMP_DIR": str(tmp_path / "tmp"),
            "ALLOWED_LOCAL_DIRS": str(clip_dir),
            "X264_PRESET": "ultrafast",
            "MAX_CONCURRENT_JOBS": "1",
            "MAX_ATTEMPTS": "1",
            "RATE_LIMIT_PER_MINUTE": "0",
        }
        | env
    )


async def _finished(client: Client, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(90):
        while True:
            body: dict[str, Any] = await (
                await client.get(f"/api/v1/compositions/{job_id}")
            ).json()
            if body["status"] in ("completed", "failed", "cancelled"):
                return body
            await asyncio.sleep(0.1)


@pytest.mark.ffmpeg
@pytest.mark.parametrize("cache", ["true", "false"])
async def test_outputs_are_keyed_by_job_and_token_and_stay_in_the_blob_dir(
    aiohttp_client: MakeClient, tmp_path: Path, gray: Path, cache: str
) -> None:
    """S10: the stored files are exactly outputs/{job_id}/{token}.mp4|.jpg; with `outputs`
    replaced by a symlink to a directory outside, the same job again fails and nothing lands
    there, whether it is rendered afresh or copied from the render cache."""
    settings = _app_settings(tmp_path, gray.parent, ENABLE_RENDER_CACHE=cache)
    client = await aiohttp_client(create_app(settings))
    doc = {"clips": [{"url": gray.as_uri()}], "output": {"resolution": "180p", "fps": 10}}
    resp = await client.post("/api/v1/compositions", json=doc)
    job_id = (await resp.json())["composition_id"]
    assert (await _finished(client, job_id))["status"] == "completed"
    blobs = tmp_path / "data" / "blobs"
    stored = sorted(str(p.relative_to(blobs)) for p in blobs.rglob("*") if p.is_file())
    assert len(stored) == 2, stored
    for key in stored:
        assert re.fullmatch(rf"outputs/{job_id}/[A-Za-z0-9_-]+\.(mp4|jpg)", key), key
    assert len({Path(k).stem for k in stored}) == 1  # one token for both

    outside = tmp_path / "outside"
    outside.mkdir()
    (blobs / "outputs").rename(tmp_path / "old-outputs")
    (blobs / "outputs").symlink_to(outside, target_is_directory=True)
    resp = await client.post("/api/v1/compositions", json=doc)
    job_id = (await resp.json())["composition_id"]
    body = await _finished(client, job_id)
    assert body["status"] == "failed" and body["output_url"] is None, body
    assert body["error"]["code"] in ("STORAGE_ERROR", "PROCESSING_FAILED"), body
    assert list(outside.rglob("*")) == []


# S10, not applicable: "downloads use the bucket-scoped credentials only" is configuration (one
# S3 client with the service's credentials; inputs come from ALLOWED_S3_BUCKETS), not a code path.


# -- S11: the internal endpoint ----------------------------------------------------------------

TOKEN = "s3cret-token"
INTERNAL = "/internal/v1/process-clips"


@pytest.mark.ffmpeg
async def test_bearer_token_is_required_when_set(
    aiohttp_client: MakeClient, tmp_path: Path, gray: Path
) -> None:
    """S11 (moved from tests/http/test_http_internal_clips.py): no or a wrong token is 401
    before the body is read, no job is created; the right token is 202."""
    app = create_app(_app_settings(tmp_path, gray.parent, INTERNAL_API_TOKEN=TOKEN))
    client = await aiohttp_client(app)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        resp = await client.post(INTERNAL, data=b"not even json", headers=headers)
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "UNAUTHORIZED"
    assert (await client.get(f"{INTERNAL}/proc-1", headers={})).status == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.get(f"{INTERNAL}/proc-1", headers=auth)).status == 404  # never created
    body = {"processing_id": "proc-1", "clips": [gray.as_uri()], "operations": ["thumbnail"]}
    resp = await client.post(INTERNAL, json=body, headers=auth)
    assert resp.status == 202
    assert (await client.get("/health")).status == 200  # only /internal/* is guarded


async def test_the_internal_endpoint_validates_like_the_public_one(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    """S11: S7 and S10 apply to it: internal callback and refused clip URLs are 400s naming
    the field, and create nothing."""
    client = await aiohttp_client(create_app(_app_settings(tmp_path, tmp_path)))
    cases = [
        ({"clips": ["s3://allowed/../x.mp4"]}, "INVALID_CLIP_FORMAT", "clips[0]"),
        ({"clips": ["file:///etc/passwd"]}, "INVALID_CLIP_FORMAT", "clips[0]"),
        ({"callback_url": "http://169.254.169.254/"}, "VALIDATION_ERROR", "callback_url"),
        ({"callback_url": "http://[::ffff:127.0.0.1]/"}, "VALIDATION_ERROR", "callback_url"),
    ]
    for i, (change, code, field) in enumerate(cases):
        pid = f"p-{i}"
        doc = {"processing_id": pid, "clips": [(tmp_path / "a.mp4").as_uri()]}
        resp = await client.post(INTERNAL, json=doc | {"operations": ["thumbnail"]} | change)
        error = (await resp.json())["error"]
        assert resp.status == 400 and (error["code"], error["details"]["field"]) == (code, field)
        assert (await client.get(f"{INTERNAL}/{pid}")).status == 404
