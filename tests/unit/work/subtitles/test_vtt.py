"""WebVTT files from real exporters (webvtt-py's test data: YouTube, Netflix, a Teams meeting)
and crafted ones for every construct of the W3C format: only the spoken text is drawn."""

from __future__ import annotations

from pathlib import Path

from vidsvc.work.compositions.subtitles import Subtitles, read

FILES = Path(__file__).parents[3] / "support" / "subtitles"


def load(name: str) -> Subtitles:
    return read((FILES / name).read_bytes())


def texts(subs: Subtitles) -> list[str]:
    return [c.text for c in subs.cues]


def test_youtube_dl_header_styles_and_a_missing_blank_line() -> None:
    subs = load("webvtt-py/youtube_dl.vtt")
    assert texts(subs) == [
        "yeah",
        "yeah\nwhat",  # the next timing line, with no blank line before it, starts a cue
        "this will happen is I'm telling",  # <00:05:04.199> and <c.colorE5E5E5> are markup
        "this will happen is I'm telling",
    ]
    assert [(c.start_ms, c.end_ms) for c in subs.cues][:3] == [
        (286070, 286470),
        (286470, 304080),
        (304080, 305069),
    ]
    assert subs.summary() == {"format": "vtt", "encoding": "utf-8", "cues": 4}


def test_teams_transcript_unpadded_times_voices_and_identifiers() -> None:
    subs = load("webvtt-py/non_padded_timestamps.vtt")
    assert [(c.start_ms, c.end_ms, c.text) for c in subs.cues] == [
        (0, 3540, "Good morning everyone."),  # 0:0:0.0 --> 0:0:3.540
        (3540, 7230, "Morning, let's get started."),  # 0:0:7.23: 230 ms
        (65200, 3727950, "Thanks for joining."),  # 0:1:5.2 --> 1:2:7.950
    ]


def test_notes_identifiers_styles_and_regions_are_not_drawn() -> None:
    assert texts(load("webvtt-py/comments.vtt")) == [
        "- Ta en kopp varmt te.\n- Det är inte varmt.",
        "- Har en kopp te.\n- Det smakar som te.",
        "- Ta en kopp",
    ]
    assert texts(load("webvtt-py/using_identifiers.vtt")) == [
        f"Caption text #{i}" for i in range(1, 7)
    ]
    assert texts(load("webvtt-py/styles_with_comments.vtt")) == ["- Hello world."]
    assert texts(load("webvtt-py/regions.vtt")) == ["Hi, my name is Fred", "Hi, I’m Bill"]
    assert texts(load("webvtt-py/metadata_headers.vtt")) == ["Caption text #1", "Caption text #2"]
    assert texts(load("webvtt-py/captions_with_bom.vtt"))[0] == "Caption text #1"


def test_netflix_export_with_cue_settings_and_lines_of_spaces() -> None:
    subs = load("webvtt-py/netflix_chicas_del_cable.vtt")
    assert len(subs.cues) == 865 and not subs.skipped
    assert texts(subs)[:2] == ["[Alba] En 1928,", "las mujeres éramos\nalgo así como adornos"]
    drawn = "\n".join(texts(subs))
    for markup in ("NOTE", "Segment", "position:", "line:", "<i>", "</i>", "-->"):
        assert markup not in drawn
    crafted = load("crafted/netflix_style.vtt")
    assert [(c.start_ms, c.text) for c in crafted.cues] == [
        (100, "[thunder rumbling]"),
        (1600, "-Tom & Jerry?\n-Over here!"),
        (62500, "Unpadded\u00a0fraction"),  # 00:01:02.5 and &nbsp;
    ]


def test_every_construct_of_the_format() -> None:
    subs = load("crafted/blocks.vtt")
    assert texts(subs) == [
        "Good morning everyone",  # <v Jane>: a voice's name is not drawn
        "Thanks for joining",  # <00:00:01.500>: a word timing, not text
        # ruby keeps its base text; entities (named and numeric) are characters; <lang>,
        # <b>, <c.class>, <u> are markup
        "漢字 <3 & > \u200e\u200f©☺ bonjour bold class under",
    ]
    drawn = "\n".join(texts(subs))
    for hidden in ("NOTE", "comment", "STYLE", "::cue", "REGION", "intro-1", "Jane", "かん"):
        assert hidden not in drawn


def test_meeting_export_entities_in_voices() -> None:
    subs = load("crafted/meeting.vtt")
    assert texts(subs) == ["Good morning everyone", "Morning, let's start.", "Thanks <all>"]
    assert subs.cues[2].start_ms == 3727950  # 1:02:07.950


def test_karaoke_tags_are_not_drawn() -> None:
    subs = load("webvtt-py/cue_tags.vtt")
    assert [(c.start_ms, c.text) for c in subs.cues] == [
        (16500, "When the moon hits your eye"),
        (18500, "Like a big-a pizza pie"),
        (20500, "That's amore"),
    ]


def test_a_malformed_cue_is_skipped_and_reported() -> None:
    bad = read(
        b"WEBVTT\n\n00:00.000 --> 00:01.000\nok\n\nstray text\n\n"
        b"00:00:07.000 --> 00:00:1d.890\nbroken\n\n00:02.000 --> 00:03.000\nfine\n"
    )
    assert texts(bad) == ["ok", "fine"]
    assert bad.summary()["skipped"] == [
        {"index": 2, "line": 6, "reason": "no timing line: not a cue"},
        {
            "index": 3,
            "line": 8,
            "reason": "a malformed timing line ('00:00:07.000 --> 00:00:1d.890')",
        },
    ]


def test_a_timing_line_inside_a_comment_starts_a_cue() -> None:
    """The spec's parser: a timing line ends a NOTE block and starts a cue."""
    subs = read(
        b"WEBVTT\n\nNOTE a\nmore note\n00:01.000 --> 00:02.000\ntext\n\n"
        b"NOTE b\n\nSTYLE\n::cue{}\n\n   \n\n00:03.000 --> 00:04.000\nlast\n"
    )
    assert [(c.start_ms, c.text) for c in subs.cues] == [(1000, "text"), (3000, "last")]
    assert not subs.skipped
