"""Encodings: byte-order marks, UTF-16 without one, UTF-8, and the legacy code pages subtitle
files are written in, told apart by charset-normalizer; an undecidable file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions.subtitles import read
from vidsvc.work.compositions.subtitles.decode import decode

FILES = Path(__file__).parents[3] / "support" / "subtitles" / "crafted"


ZH_HANS = ("你好世界", "今天天气很好，我们去公园散步吧。")
RU = ("Привет, мир!", "Сегодня хорошая погода, пойдём гулять.")
JA = ("こんにちは、世界。", "今日はいい天気ですね。散歩に行きましょう。")
FR = ("Ça va très bien, merci.", "Où est la gare ? Déjà vu, garçon !")


@pytest.mark.parametrize(
    ("name", "encoding", "expected"),
    [
        ("zh_gb2312.srt", "gb18030", ZH_HANS),
        ("zh_big5.srt", "big5", ("你好世界", "今天天氣很好，我們去公園散步吧。")),
        ("ja_shift_jis.srt", "cp932", JA),
        ("ru_cp1251.srt", "cp1251", RU),
        ("fr_cp1252.srt", "cp1252", FR),
        ("zh_utf16le_bom.srt", "utf-16", ZH_HANS),
        ("ru_utf16be_nobom.srt", "utf-16-be", RU),
    ],
)
def test_legacy_and_unicode_files(name: str, encoding: str, expected: tuple[str, str]) -> None:
    subs = read((FILES / name).read_bytes())
    assert tuple(c.text for c in subs.cues[:2]) == expected
    assert subs.summary()["encoding"] == encoding


def test_byte_order_marks_win() -> None:
    text = "1\n00:00:00,000 --> 00:00:01,000\nnaïve\n"
    for codec, name in (("utf-8-sig", "utf-8"), ("utf-16-be", None), ("utf-32", "utf-32")):
        data = text.encode(codec) if name else b"\xfe\xff" + text.encode(codec)
        got, encoding = decode(data)
        assert got.lstrip("\ufeff").endswith("naïve\n")
        assert encoding == (name or "utf-16")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x00\x01\x02binary\xff" * 50, "binary"),
        (b"\xff\xfe\x00\xd8", "byte-order mark"),  # UTF-16 mark, then a lone surrogate
        # bytes no listed code page reads as text: refused, never drawn as mojibake
        (b"1\n00:00:00,000 --> 00:00:01,000\n" + bytes(range(0x80, 0x100)) * 8, "encoding"),
    ],
)
def test_undecidable_files_are_refused_naming_the_field(data: bytes, why: str) -> None:
    with pytest.raises(InvalidClipFormat) as info:
        read(data)
    assert info.value.details["field"] == "captions.url"
    assert why in info.value.message


def test_utf8_with_a_stray_byte_stays_utf8() -> None:
    """A file joined from a UTF-8 and a Windows-1252 part: the valid characters are kept and
    the stray byte is U+FFFD, rather than every accented letter garbled as another code page."""
    text = "1\n00:00:00,000 --> 00:00:01,000\nCafé déjà vu, naïve façade, Größe, Müller\n\n"
    subs = read(text.encode() + b"2\n00:00:02,000 --> 00:00:03,000\nstray \xe9 byte\n")
    assert subs.encoding == "utf-8"
    assert [c.text for c in subs.cues] == [
        "Café déjà vu, naïve façade, Größe, Müller",
        "stray \ufffd byte",
    ]


def test_utf16_without_a_mark_and_nul_low_bytes() -> None:
    """一 is U+4E00: little-endian, its low byte is NUL too."""
    data = "1\n00:00:00,000 --> 00:00:01,000\n一丁七万丈三上下\n".encode("utf-16-le")
    assert decode(data) == (data.decode("utf-16-le"), "utf-16-le")
