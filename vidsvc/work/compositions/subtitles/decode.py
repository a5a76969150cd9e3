"""A subtitle file's bytes as text, and the encoding that decoded them.

In order: a byte-order mark wins (UTF-8, UTF-16, UTF-32); NUL bytes mean UTF-16 without a
mark (one byte of most pairs NUL) or a binary file; valid UTF-8 is UTF-8, and so is text whose
non-ASCII characters are nearly all valid UTF-8 (files joined from two sources, a stray
Windows-1252 byte: the few bad bytes are drawn as U+FFFD, since any other reading would garble
every valid character); anything else is a legacy encoding, chosen by charset-normalizer (a
kept, typed library, 0.9 MB with its compiled speedups, already installed for requests) among
the code pages subtitle files are written in: Windows-1250 to 1257, KOI8-R, GB18030 (a
superset of GB2312 and GBK: it decodes both exactly), Big5, CP932 (Shift-JIS as Windows writes
it), EUC-JP and CP949 (EUC-KR). A file it cannot place, or places with a mess ratio over
MAX_CHAOS, is refused naming `captions.url`: an unreadable file is a clear error, never
mojibake. chardet (LGPL, slower) and cchardet (unmaintained) were the alternatives.

Western short texts are where detectors disagree: the Latin code pages differ in a few accented
letters, and a couple of French lines can score best as Baltic (cp1257). Windows-1252 is what
Western editors wrote, so it is taken when it scores within LATIN_SLACK of another Latin page
or reads the bytes as the same text.
"""

from __future__ import annotations

import codecs

import charset_normalizer
from charset_normalizer import CharsetMatch

from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions.subtitles.model import FIELD

CANDIDATES = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
    "koi8_r", "gb18030", "big5", "cp932", "euc_jp", "cp949",
)  # fmt: skip
_LATIN = {"cp1250", "cp1254", "cp1257"}
MAX_CHAOS = 0.2  #: charset-normalizer's mess ratio above which a decoding is not trusted
LATIN_SLACK = 0.15
UTF8_SHARE = 0.8  #: a legacy file has next to none: its non-ASCII bytes are not UTF-8
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),  # before UTF-16: its mark starts the same
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a subtitle file's bytes."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return _strict(data, codec, "not valid text for its byte-order mark"), name
    if b"\x00" in data:
        utf16 = _utf16_without_mark(data)
        if utf16 is None:
            raise InvalidClipFormat.at(FIELD, "a binary file, not SRT or WebVTT")
        return _strict(data, utf16, "not valid UTF-16"), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly, "utf-8"
    codec = _legacy(data)
    return _strict(data, codec, f"not valid {codec}"), codec


def _strict(data: bytes, codec: str, reason: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InvalidClipFormat.at(FIELD, reason) from exc


def _utf16_without_mark(data: bytes) -> str | None:
    """utf-16-le or -be when one byte of most pairs of the file's start is NUL (text that is
    mostly ASCII, as timing lines are), else None."""
    head = data[:4096]
    pairs = len(head) // 2
    if not pairs:
        return None
    odd = head[1::2].count(0)  # NUL as the high byte: little-endian
    even = head[0::2].count(0)
    # a character such as U+4E00 has a NUL low byte: the other side may have a few
    if odd >= 0.4 * pairs and odd > 4 * even:
        return "utf-16-le"
    if even >= 0.4 * pairs and even > 4 * odd:
        return "utf-16-be"
    return None


def _mostly_utf8(data: bytes) -> str | None:
    """The text, if at least UTF8_SHARE of its non-ASCII characters are valid UTF-8 (the bad
    bytes become U+FFFD)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    good = non_ascii - bad
    return text if good > 0 and good >= UTF8_SHARE * non_ascii else None


def _legacy(data: bytes) -> str:
    """The legacy code page charset-normalizer finds, or a refusal."""
    found = [
        r
        for r in charset_normalizer.from_bytes(data, cp_isolation=list(CANDIDATES))
        if r.encoding in CANDIDATES and r.chaos <= MAX_CHAOS
    ]
    if not found:
        raise InvalidClipFormat.at(
            FIELD,
            "its text encoding could not be told (not UTF-8, UTF-16 nor a known legacy "
            "code page); save it as UTF-8",
        )
    best = min(found, key=lambda r: (r.chaos, -r.coherence))
    if best.encoding in _LATIN and _western(data, found, best):
        return "cp1252"
    return str(best.encoding)


def _western(data: bytes, found: list[CharsetMatch], best: CharsetMatch) -> bool:
    """Whether Windows-1252 reads these bytes as well as the best Latin page: within
    LATIN_SLACK, or to the same text (German umlauts are the same bytes in 1250 and 1252)."""
    western = next((r for r in found if r.encoding == "cp1252"), None)
    if western is not None and western.chaos <= best.chaos + LATIN_SLACK:
        return True
    try:
        return data.decode("cp1252") == data.decode(str(best.encoding))
    except UnicodeDecodeError:
        return False
