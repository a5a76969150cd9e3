"""SRT files as players read them: markup stripped to text, numbered or not, and a malformed cue
skipped with a warning, never drawn as the previous cue's text (issue 22)."""

from __future__ import annotations

from pathlib import Path

from vidsvc.work.compositions.subtitles import Subtitles, read

FILES = Path(__file__).parents[3] / "support" / "subtitles"


def load(name: str) -> Subtitles:
    return read((FILES / name).read_bytes())


def test_font_tags_and_entities_are_text() -> None:
    subs = load("webvtt-py/styles_colours.srt")
    assert [c.text for c in subs.cues][:3] == [
        "Musique douce",
        "---",
        "Some italic and normal coloured text. By the way, 2 < 3 !",
    ]
    assert subs.cues[4].text == "-Stéphane ? Où on se gare ?"


def test_a_malformed_cue_is_skipped_with_its_index_line_and_reason() -> None:
    subs = load("webvtt-py/invalid_timeframe.srt")  # cue 2: 00:00:07,000 --> 00:00:11:890
    assert [c.text for c in subs.cues] == [f"Caption text #{i}" for i in (1, 3, 4, 5)]
    assert subs.summary()["skipped"] == [
        {"index": 2, "line": 5, "reason": "a malformed end time '00:00:11:890'"}
    ]
    crafted = load("crafted/malformed.srt")
    assert [(c.start_ms, c.text) for c in crafted.cues] == [
        (1000, "First line"),
        (13000, "Last line & more"),  # <i>, {\an8}, &amp;, <font color=…>
        (16000, "No blank line before my number"),  # its number was not the cue before's text
    ]
    assert crafted.summary() == {
        "format": "srt",
        "encoding": "utf-8",
        "cues": 3,
        "skipped": [
            {"index": 2, "line": 5, "reason": "a malformed end time '00:00:11:890'"},
            {"index": 3, "line": 9, "reason": "it ends before it starts"},
        ],
        "skipped_total": 2,
    }


def test_unnumbered_cues_dots_unpadded_fields_and_literal_brackets() -> None:
    subs = load("crafted/unnumbered.srt")
    assert [(c.start_ms, c.end_ms, c.text) for c in subs.cues] == [
        (500, 1500, "Dots for commas, no numbers"),  # <b>, {\i1}, {\i0}
        (2000, 3250, "Unpadded <fields> a < b"),  # a lone < is text, as players draw it
    ]


def test_a_real_file_in_gb2312() -> None:
    subs = load("srt/gb2312.srt")  # from the srt package's tests, numbered 2, 4, 6
    assert [c.text for c in subs.cues] == [
        "宇宙守护神  保护我们远离邪恶",
        "他能徒手抓住子弹  拦住疾速的火车",
        "轻轻一跳就能飞跃高楼",
    ]
    assert subs.summary() == {"format": "srt", "encoding": "gb18030", "cues": 3}
