"""The format, the caps and what the job's metadata says: a file is read in bounded time and
memory whatever it holds, and every refusal names `captions.url`."""

from __future__ import annotations

import pytest

from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions.subtitles import MAX_FILE_CUES, read
from vidsvc.work.compositions.subtitles.blocks import MAX_OTHER_BLOCKS
from vidsvc.work.compositions.subtitles.model import MAX_CUE_PAYLOAD, MAX_REPORTED_SKIPS

CUE = b"00:00:00,000 --> 00:00:01,000\nok\n\n"


def refused(data: bytes, *, words: bool = False) -> str:
    with pytest.raises(InvalidClipFormat) as info:
        read(data, words=words)
    assert info.value.details["field"] == "captions.url"
    return info.value.message


def test_the_format_is_told_from_the_text() -> None:
    assert read(b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n").format == "vtt"
    assert read(b"WEBVTT - title\n\n00:01.000 --> 00:02.000\nhi\n").format == "vtt"
    # no signature: read as SRT, which accepts WebVTT's times too
    assert read(b"00:01.000 --> 00:02.000\nhi\n").cues[0].start_ms == 1000
    assert "ASS/SSA" in refused(b"[Script Info]\nTitle: x\n")
    assert "no timing line" in refused(b"just some words\n")
    assert "empty" in refused(b" \n\n")


def test_a_file_of_malformed_cues_is_refused_and_says_so() -> None:
    message = refused(b"1\n00:00:07,000 --> 00:00:11:890\nbroken\n\n2\n00:00:05 --> 00:00:04\nx\n")
    assert "no cue with text and a positive duration (2 malformed, skipped)" in message


def test_skipped_cues_are_reported_first_ones_and_a_count() -> None:
    data = CUE + b"".join(b"stray %d\n\n" % i for i in range(50))
    summary = read(data).summary()
    assert summary["cues"] == 1 and summary["skipped_total"] == 50
    assert len(summary["skipped"]) == MAX_REPORTED_SKIPS
    assert summary["skipped"][0] == {"index": 2, "line": 4, "reason": "no timing line: not a cue"}


def test_caps_stop_reading_early() -> None:
    assert f"at least {MAX_FILE_CUES + 1} cues" in refused(CUE * (MAX_FILE_CUES + 100))
    stray = CUE + b"x\n\n" * (MAX_OTHER_BLOCKS + 1)
    assert f"more than {MAX_OTHER_BLOCKS} blocks that are not cues" in refused(stray)
    spaces = b"WEBVTT\n\n" + CUE.replace(b",", b".") + b" \n\n" * (MAX_OTHER_BLOCKS + 1)
    assert "blocks that are not cues" in refused(spaces)
    markup = b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"<c>a</c>" * (MAX_CUE_PAYLOAD // 8 + 1)
    assert f"over the cap of {MAX_CUE_PAYLOAD}" in refused(markup)
    long_text = b"00:00:00,000 --> 00:00:01,000\n" + b"x" * 1001
    assert "a cue of 1001 characters, over the cap of 1000" in refused(long_text)


def test_timed_words_have_the_inline_words_cap() -> None:
    cue = b"00:00.000 --> 00:01.000\na<00:00.500>b\n\n"
    data = b"WEBVTT\n\n" + cue * 2501  # 5002 words
    assert "5002 timed words, over the cap of 5000" in refused(data, words=True)
    assert len(read(data).cues) == 2501  # in lines mode the words are not read
