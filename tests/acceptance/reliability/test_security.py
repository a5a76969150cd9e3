"""RELIABILITY.md Part B, group S (security): S1–S5 and S7–S11, with the real FFmpeg.

S6 (resource limits on FFmpeg) is another suite's: tests/acceptance/reliability/test_limits.py.
The URL forms of S4 and S10 (argv tokens, control characters, bucket allowlist, key traversal)
are the table of tests/acceptance/reliability/test_bad_input.py::test_refused (shared with B3).
"""

from __future__ import annotations

import ast
import asyncio
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.support.callback_sink import (
    quick_backoff,
    receiver,
)
from tests.support.media import FAST, Frame, ffmpeg, frame_at
from tests.support.render_doc import Render
from tests.support.textpix import ink, unescape_ass
from vidsvc import graph
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, InvalidTimeline, ValidationError
from vidsvc.graph.escape import escape_graph, escape_option, filter_args
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render

__all__ = ["quick_backoff", "receiver"]  # fixtures from elsewhere

pytestmark = pytest.mark.S
Client = TestClient[web.Request, web.Application]
ROOT = Path(__file__).resolve().parents[3]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
STYLE = {"size": 14, "color": "white"}  # small enough that no case wraps at 640 px
SPECIALS = "':\\,;[]=%{}\n\t\"`"


# -- S1: drawtext escaping and quote breakout ---------------------------------------------------
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
    face = graph.FontFace(path=FONT, family="DejaVu Sans", em_ratio=1.164)
    built = graph.build(timeline, comp, sources, {comp.texts[0].style.font: face})
    return graph.compile_command(built, graph.Encoding(duration_ms=timeline.duration_ms))


@hsettings(max_examples=300, deadline=None, database=None)
@given(
    st.text(alphabet=st.sampled_from([*SPECIALS, "a", " ", "x", "é", "\r", "\x00"]), max_size=40)
)
def test_special_characters_never_reach_the_graph(text: str) -> None:
    """S1 fuzz: any text over `' : \\ , ; [ ] = % { } \\n \\t` and quotes is refused with a
    4xx (empty, control characters) or compiles to exactly the graph of a plain text, the
    text living only in its side file, as one event whose text reads back exactly."""
    try:
        command = _compiled(text)
    except (InvalidTimeline, ValidationError) as exc:
        assert exc.http_status == 400 and exc.details["field"] == "overlays[0].content"
        return
    plain = _compiled("x")
    assert command.argv == plain.argv  # the text changes nothing in the command
    assert list(command.files) == ["text.ass"]
    doc, plain_doc = command.files["text.ass"], plain.files["text.ass"]
    # everything but the one event's text is the plain document's
    assert doc.split("Dialogue:")[0] == plain_doc.split("Dialogue:")[0]
    (event,) = [line for line in doc.split("\n") if line.startswith("Dialogue:")]
    tags, body = event.split(",", 9)[9].split("}", 1)
    assert tags == plain_doc.split("Dialogue:")[1].split(",", 9)[9].split("}", 1)[0]
    assert unescape_ass(body) == text.replace("\r\n", "\n").replace("\r", "\n")


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
        assert "text.ass" in opened and "fonts/f0.ttf" in opened  # the trace sees FFmpeg's opens
        assert str(canary) not in opened
    assert "Cannot read file" not in result.ffmpeg.stderr_tail
    graph_text = result.argv[result.argv.index("-filter_complex") + 1]
    assert graph_text.count("ass=filename=text.ass") == 1 and "movie=" not in graph_text
    assert "drawtext" not in graph_text
    assert str(canary) not in " ".join(result.argv)


# -- S1/S2: the text is drawn literally --------


def reference(tmp_path: Path, text: str) -> Frame:
    """The same text drawn by a plain FFmpeg command (textfile, expansion=none)."""
    (tmp_path / "ref.txt").write_text(text, encoding="utf-8")
    drawtext = (
        f"drawtext=fontfile={FONT}:textfile={tmp_path}/ref.txt:expansion=none:fontsize=14:"
        "fontcolor=0xFFFFFFFF:x=(w-text_w)/2:y=(h-text_h)/2:fix_bounds=1"
    )
    out = tmp_path / "ref.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=0x808080:s=640x360:r=10:d=1",
        "-vf",
        drawtext,
        *FAST,
        str(out),
    )
    return frame_at(out, 0.5)


async def drawn(render_doc: Render, gray: Path, text: str) -> tuple[Frame, tuple[str, ...]]:
    result = await render_doc(  # 360p: the longest case fits on one line, as drawtext draws it
        {
            "clips": [{"url": gray}],
            "overlays": [{"content": text, "style": STYLE}],
            "output": {"resolution": "360p", "fps": 10},
        }
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
    # N1: ASS syntax is drawn, never obeyed (the second text is what obeying would draw)
    "ass_pos": ("left {\\pos(0,0)} right", "left right"),
    "ass_size": ("{\\fs999}big", "big"),
    "ass_drawing": ("{\\p1}m 0 0 l 99 99", "m 0 0 l 99 99"),
    "ass_reset": ("x{\\r}y{\\c&H0000FF&}z", "xyz"),
    "ass_newline": ("a\\Nb\\hc\\nd", "a\nb c d"),
    "ass_brace": ("\\{ lone { brace }", "{ lone brace"),
}


@pytest.mark.ffmpeg
@pytest.mark.B
@pytest.mark.parametrize("case", list(TEXTS))
async def test_text_renders_literally(
    render_doc: Render, gray: Path, tmp_path: Path, case: str
) -> None:
    """S1, S2, B9, N1: libass draws the same text as drawtext does from the same bytes with
    expansion=none (the same box of text pixels and the same amount of ink, within the two
    rasterizers' differences), and clearly not a slightly different text (`%{eif:7*6:d}` is
    not drawn as 42)."""
    text, other = TEXTS[case]
    ours, argv = await drawn(render_doc, gray, text)
    got, same, different = (
        ink(ours),
        ink(reference(tmp_path, text)),
        ink(reference(tmp_path, other)),
    )
    assert got.like(same), (case, got, same)
    assert not got.like(different), (case, got, different)
    graph_text = argv[argv.index("-filter_complex") + 1]
    assert graph_text.count("ass=filename=text.ass") == 1 and "movie=" not in graph_text
    assert CANARY not in graph_text
    assert not Path(CANARY).exists()


@pytest.mark.ffmpeg
@pytest.mark.B
async def test_newlines_render_as_line_breaks(
    render_doc: Render, gray: Path, tmp_path: Path
) -> None:
    """B9 (`\\r\\n`): drawn as one line break."""
    ours, _ = await drawn(render_doc, gray, "top\r\nbottom")
    assert ink(ours).like(ink(reference(tmp_path, "top\nbottom")))
    assert not ink(ours).like(ink(reference(tmp_path, "top bottom")))


# -- S3: the other filtergraph-bearing fields -------------------------------------------------
# Covered by tests/acceptance/reliability/test_bad_input.py::test_refusals_name_the_field (font,
# colour, position, transition and size injections are VALIDATION_ERROR naming the field).


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
