"""Captions (SPEC §3.1, issue 11): inline cues, SRT and WebVTT files, words in the modes
lines, highlight and word; each visible at its time and gone after; bad files named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.support.media import FAST, Frame, ffmpeg, frame_at
from tests.support.render_doc import Render
from tests.support.textpix import ink, need_tesseract, ocr, unescape_ass
from vidsvc import spec
from vidsvc.errors import InvalidClipFormat
from vidsvc.graph import captions
from vidsvc.work.compositions import subtitles

W, H = 640, 360


@pytest.fixture(scope="module")
def black(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("captions") / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", f"color=c=black:s={W}x{H}:r=10:d=2", *FAST, str(path))
    return path


async def render_captions(render_doc: Render, clip: Path, cap: dict[str, Any]) -> Path:
    result = await render_doc(
        {"clips": [{"url": clip}], "captions": cap, "output": {"resolution": "360p", "fps": 10}}
    )
    return result.video


def red_x(frame: Frame) -> float | None:
    """Mean x of the strongly red pixels (the highlighted word), None if there are none."""
    xs = [
        x
        for y in range(frame.height)
        for x in range(frame.width)
        if (p := frame.pixel(x, y))[0] > 150 and p[1] < 90 and p[2] < 90
    ]
    return sum(xs) / len(xs) if xs else None


CUES = [
    {"start": 0.0, "end": 0.7, "text": "First caption"},
    {"start": 1.1, "end": 1.8, "text": "Second"},
]


@pytest.mark.ffmpeg
async def test_cues_show_at_their_time_and_go_after(render_doc: Render, black: Path) -> None:
    video = await render_captions(render_doc, black, {"cues": CUES, "style": {"size": 32}})
    first, gap, second = (ink(frame_at(video, t)) for t in (0.3, 0.9, 1.5))
    assert first.box and second.box and gap.box is None, (first, gap, second)
    assert first.width > second.width  # "First caption" is longer than "Second"
    assert first.box[3] > 0.8 * H and first.box[3] <= H - round(0.08 * H) + 2  # bottom margin


SRT = "1\n00:00:00,000 --> 00:00:00,700\nHello from SRT\n\n2\n00:00:01,100 --> 00:00:01,800\nBye\n"
VTT = "WEBVTT\n\n00:00.000 --> 00:00.700\nHello from VTT\n\n00:01.100 --> 00:01.800\nBye\n"


@pytest.mark.ffmpeg
@pytest.mark.parametrize(("name", "body"), [("voice.srt", SRT), ("voice.vtt", VTT)])
async def test_subtitle_files_are_read(
    render_doc: Render, black: Path, tmp_path: Path, name: str, body: str
) -> None:
    need_tesseract("eng")
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    video = await render_captions(render_doc, black, {"url": path.as_uri(), "style": {"size": 40}})
    shown, gap = frame_at(video, 0.3), frame_at(video, 0.9)
    assert ink(gap).box is None
    image = tmp_path / "f.ppm"
    image.write_bytes(f"P6 {W} {H} 255\n".encode() + bytes(255 - b for b in shown.rgb))
    assert ocr(image, "eng") == f"Hello from {name[-3:].upper()}"


WORDS = [
    {"start": 0.0, "end": 0.6, "text": "one"},
    {"start": 0.6, "end": 1.2, "text": "two"},
    {"start": 1.2, "end": 1.9, "text": "three"},
]


@pytest.mark.ffmpeg
async def test_highlight_moves_along_the_line(render_doc: Render, black: Path) -> None:
    video = await render_captions(
        render_doc,
        black,
        {"words": WORDS, "mode": "highlight", "style": {"size": 40, "highlight_color": "red"}},
    )
    frames = [frame_at(video, t) for t in (0.3, 0.9, 1.5)]
    xs = [red_x(f) for f in frames]
    assert all(x is not None for x in xs), xs
    assert xs[0] < xs[1] < xs[2], xs  # the red word moves left to right
    boxes = [ink(f).box for f in frames]
    assert all(b is not None for b in boxes)
    for box in boxes[1:]:  # the line itself stays (a pixel of antialiasing aside)
        assert max(abs(a - b) for a, b in zip(box or (), boxes[0] or (), strict=True)) <= 2


@pytest.mark.ffmpeg
async def test_word_mode_shows_one_word_at_a_time(render_doc: Render, black: Path) -> None:
    video = await render_captions(
        render_doc, black, {"words": WORDS, "mode": "word", "style": {"size": 40}}
    )
    lines = await render_captions(render_doc, black, {"words": WORDS, "style": {"size": 40}})
    one, two = ink(frame_at(video, 0.3)), ink(frame_at(video, 0.9))
    line = ink(frame_at(lines, 0.3))
    assert one.box and two.box and line.box
    assert one.width < 0.5 * line.width and two.width < 0.5 * line.width  # a word, not the line
    assert one.box != two.box


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    ("body", "why"),
    [(b"", "empty"), (b"\x00\x01\x02binary\xff" * 50, "binary"), (b"just some words\n", "SRT")],
)
async def test_bad_files_fail_naming_captions(
    render_doc: Render, black: Path, tmp_path: Path, body: bytes, why: str
) -> None:
    path = tmp_path / "bad.srt"
    path.write_bytes(body)
    with pytest.raises(InvalidClipFormat) as info:
        await render_captions(render_doc, black, {"url": path.as_uri()})
    assert info.value.details["field"] == "captions.url"
    assert why in info.value.message


# -- pure parts ---------------------------------------------------------------------------------


def test_encodings_and_order() -> None:
    latin1 = "1\n00:00:02,000 --> 00:00:03,000\ncafé\n\n2\n00:00:00,000 --> 00:00:01,000\nfirst\n"
    for data in (latin1.encode("latin-1"), latin1.encode("utf-16"), latin1.encode("utf-8-sig")):
        cues = subtitles.read(data).cues
        assert [c.text for c in cues] == ["café", "first"]
    timed = captions.timed(subtitles.read(latin1.encode()).cues, -500, 2200)
    assert [(c.start_ms, c.end_ms, c.text) for c in timed] == [
        (0, 500, "first"),
        (1500, 2200, "café"),
    ]


def test_words_group_at_pauses_and_sentence_ends() -> None:
    def w(s: float, e: float, t: str) -> spec.Cue:
        return spec.Cue(start_ms=round(s * 1000), end_ms=round(e * 1000), text=t)

    words = [w(0, 0.2, "Hi."), w(0.2, 0.4, "How"), w(0.4, 0.6, "are"), w(2, 2.2, "you")]
    groups = captions.group(words, 600, 40.0)
    assert [[x.text for x in g] for g in groups] == [["Hi."], ["How", "are"], ["you"]]


def test_portrait_captions_sit_above_the_app_buttons() -> None:
    assert captions.margins("bottom", (720, 1280)) == (2, round(1280 * 0.22))
    assert captions.margins("bottom", (1280, 720)) == (2, round(720 * 0.08))
    assert captions.margins("top", (1280, 720))[0] == 8


def test_file_caps() -> None:
    """N2: a 1 MB cue and more than 5000 cues are refused naming captions.url."""
    huge = "1\n00:00:00,000 --> 00:00:01,000\n" + "x" * 1_000_000 + "\n"
    with pytest.raises(InvalidClipFormat, match="over the cap"):
        subtitles.read(huge.encode())
    many = "".join(
        f"{i}\n00:00:{i // 100 % 60:02d},{i % 100 * 10:03d} --> 00:00:{i // 100 % 60:02d},"
        f"{i % 100 * 10 + 5:03d}\nw{i}\n\n"
        for i in range(1, 5002)
    )
    with pytest.raises(InvalidClipFormat, match="5001 cues"):
        subtitles.read(many.encode())


@hsettings(max_examples=200, deadline=None, database=None)
@given(
    st.text(alphabet=st.sampled_from([*"{}\\\\N,:;'\"%[]=\n\t", "a", " ", "é", "\r"]), max_size=30)
)
def test_caption_text_is_literal(text: str) -> None:
    """N1 for captions: a cue's text reaches the document only escaped, as one event."""
    cap = spec.Captions(cues=(spec.Cue(start_ms=0, end_ms=1000, text=text),))
    got = captions.timed_texts(cap, (1280, 720), 2000)
    cleaned = captions.clean(text)
    if not cleaned:
        assert got == []
        return
    ((start, end, body),) = got
    assert (start, end) == (0, 1000)
    assert unescape_ass(body) == cleaned


def test_unpaired_surrogates_are_refused_naming_the_cue() -> None:
    from vidsvc.errors import ValidationError
    from vidsvc.schema import parse_composition

    bad = {"cues": [{"start": 0, "end": 1, "text": "a\ud800b"}]}
    with pytest.raises(ValidationError) as info:
        parse_composition({"clips": [{"url": "a"}], "captions": bad})
    assert info.value.details["field"] == "captions.cues[0].text"


def test_caption_and_font_urls_are_checked_before_any_work(tmp_path: Path) -> None:
    """The URL policy applies at submission (work.compositions.checks.check, called on POST)."""
    from vidsvc.config import Settings
    from vidsvc.schema import parse_composition
    from vidsvc.work.compositions.checks import check

    settings = Settings.from_env({"ALLOWED_LOCAL_DIRS": str(tmp_path)})
    for extra, field in (
        ({"captions": {"url": "file:///etc/passwd.srt"}}, "captions.url"),
        ({"fonts": [{"family": "B", "url": "ftp://x/b.ttf"}]}, "fonts[0].url"),
    ):
        comp = parse_composition({"clips": [{"url": f"file://{tmp_path}/a.mp4"}], **extra})
        with pytest.raises(InvalidClipFormat) as info:
            check(comp, settings)
        assert info.value.details["field"] == field


# -- subtitle files as their formats define them (issue 22) -------------------------------------

FILES = Path(__file__).parents[1] / "support" / "subtitles"


def read_frame(frame: Frame, tmp_path: Path, lang: str) -> str:
    """OCR of the frame as black text on white (tesseract reads that best)."""
    image = tmp_path / f"frame-{lang}.ppm"
    image.write_bytes(f"P6 {W} {H} 255\n".encode() + bytes(255 - b for b in frame.rgb))
    return ocr(image, lang)


@pytest.mark.ffmpeg
async def test_only_spoken_text_of_a_webvtt_file_is_drawn(
    render_doc: Render, black: Path, tmp_path: Path
) -> None:
    """A header, metadata, NOTE, STYLE and REGION blocks, cue identifiers, a voice tag, cue
    settings and an inline timestamp (crafted/blocks.vtt): only the cue text is drawn."""
    need_tesseract("eng")
    path = tmp_path / "blocks.vtt"
    path.write_bytes((FILES / "crafted" / "blocks.vtt").read_bytes())
    cap = {"url": path.as_uri(), "style": {"size": 36}}
    result = await render_doc(
        {"clips": [{"url": black}], "captions": cap, "output": {"resolution": "360p", "fps": 10}}
    )
    assert result.captions == {"format": "vtt", "encoding": "utf-8", "cues": 3}
    first = read_frame(frame_at(result.video, 0.5), tmp_path, "eng")
    second = read_frame(frame_at(result.video, 1.6), tmp_path, "eng")
    assert (first, second) == ("Good morning everyone", "Thanks for joining")
    assert ink(frame_at(result.video, 1.1)).box is None  # between the cues: nothing at all


#: A GB2312 file from another tool (crafted/, CRLF), and a Big5 one (Taiwan's legacy encoding)
#: whose 歡迎來到臺灣 has four characters GB2312 does not.
LEGACY = {
    "gb2312": (
        (FILES / "crafted" / "zh_gb2312.srt").read_bytes(),
        "gb18030",
        "chi_sim",
        "你好世界",
    ),
    "big5": (
        "1\r\n00:00:00,000 --> 00:00:02,000\r\n歡迎來到臺灣\r\n".encode("big5"),
        "big5",
        "chi_tra",
        "歡迎來到臺灣",
    ),
}


@pytest.mark.ffmpeg
@pytest.mark.parametrize("name", LEGACY)
async def test_a_legacy_encoded_file_draws_its_chinese(
    render_doc: Render, black: Path, tmp_path: Path, name: str
) -> None:
    """A legacy-encoded SRT is decoded, not drawn as mojibake (read back with the script's
    tesseract pack); the encoding that read it is in the render's captions facts."""
    data, encoding, lang, text = LEGACY[name]
    need_tesseract(lang)
    path = tmp_path / f"{name}.srt"
    path.write_bytes(data)
    cap = {"url": path.as_uri(), "style": {"size": 48}}
    result = await render_doc(
        {"clips": [{"url": black}], "captions": cap, "output": {"resolution": "360p", "fps": 10}}
    )
    assert result.captions["encoding"] == encoding
    got = read_frame(frame_at(result.video, 0.5), tmp_path, lang)
    assert got.replace(" ", "") == text, got


@pytest.mark.ffmpeg
async def test_youtube_word_timings_drive_the_highlight(
    render_doc: Render, black: Path, tmp_path: Path
) -> None:
    """YouTube's `<00:00:00.240><c> word</c>` timings are the words in highlight mode: the red
    word moves along the line at the file's times."""
    path = tmp_path / "yt.vtt"
    path.write_bytes((FILES / "crafted" / "youtube_auto.vtt").read_bytes())
    cap = {"url": path.as_uri(), "mode": "highlight",
           "style": {"size": 32, "highlight_color": "red"}}  # fmt: skip
    result = await render_doc(
        {"clips": [{"url": black}], "captions": cap, "output": {"resolution": "360p", "fps": 10}}
    )
    assert result.captions == {"format": "vtt", "encoding": "utf-8", "cues": 4, "words": 7}
    xs = [red_x(frame_at(result.video, t)) for t in (0.1, 0.3, 0.6, 0.9)]  # 4 words, 4 times
    assert all(x is not None for x in xs), xs
    assert xs == sorted(xs) and len(set(xs)) == 4, xs  # hello, everyone, and, welcome
