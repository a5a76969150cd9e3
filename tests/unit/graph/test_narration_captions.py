"""Captions from narration (graph/narration_captions.py), drawn by graph/captions.py and
graph/text.py: pacing, splitting, shifting, the three modes, and explicit captions combined."""

from __future__ import annotations

import itertools

import pytest

from vidsvc import spec
from vidsvc.graph import captions, text
from vidsvc.graph.builder import GraphBuilder
from vidsvc.graph.look import Look
from vidsvc.graph.model import FontFace
from vidsvc.graph.narration import Spoken, Voice
from vidsvc.graph.narration_captions import paced, streams, units
from vidsvc.graph.timeline import ClipSlot, Timeline

SIZE = (1280, 720)
HIGHLIGHT = "{\\1c&H00D7FF&}"  #: the default highlight colour's inline tag


def cue(start: int, end: int, word: str) -> spec.Cue:
    return spec.Cue(start_ms=start, end_ms=end, text=word)


def spoken(start: int, end: int, text: str | None = None, *words: spec.Cue) -> Spoken:
    return Spoken(start_ms=start, end_ms=end, text=text, words=words)


def flat(got: tuple[tuple[spec.Cue, ...], ...]) -> list[spec.Cue]:
    return [w for stream in got for w in stream]


def test_text_is_paced_by_length_contiguous_over_the_span() -> None:
    got = flat(streams([spoken(1000, 1700, "a bb cccc")]))
    assert got == [cue(1000, 1100, "a"), cue(1100, 1300, "bb"), cue(1300, 1700, "cccc")]


@pytest.mark.parametrize(
    ("start", "end", "script"),
    [
        (0, 1001, "One two three four five six seven, eight nine ten."),
        (333, 7777, "Schnell, langsam; sehr-langes-Wort und kurz."),
        (5, 64, "a b c d e f g h i j k l m n o p q r s t u v w x y z"),
        (2000, 9999, "你好，世界。今天天气很好！"),
    ],
)
def test_pacing_is_contiguous_within_the_span_and_proportional(
    start: int, end: int, script: str
) -> None:
    got = flat(paced(script, start, end))
    assert got[0].start_ms == start and got[-1].end_ms == end
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(got))
    assert all(w.end_ms > w.start_ms for w in got)
    per_char = (end - start) / sum(len(w.text) for w in got)  # every script here: 1 char each
    for w in got:
        assert abs((w.end_ms - w.start_ms) - len(w.text) * per_char) <= 1


def test_length_counts_grapheme_clusters() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one cluster, five code points
    got = flat(paced(f"e\u0301te\u0301 {family} ab", 0, 600))
    assert [(w.text, w.end_ms - w.start_ms) for w in got] == [
        ("e\u0301te\u0301", 300),
        (family, 100),
        ("ab", 200),
    ]


def test_cjk_and_thai_split_into_units() -> None:
    assert units("你好，世界。") == ["你", "好，", "世", "界。"]
    assert units("こんにちは") == ["こ", "ん", "に", "ち", "は"]
    assert units("สวัสดีครับ") == ["สวัสดี", "ครับ"]
    got = flat(paced("你好，世界。", 0, 600))
    assert [(w.text, w.start_ms, w.end_ms) for w in got] == [
        ("你", 0, 100),
        ("好，", 100, 300),
        ("世", 300, 400),
        ("界。", 400, 600),
    ]


def test_units_rejoined_by_spaces_keep_the_text() -> None:
    """A unit ending without a space stays with the next where a space would be drawn."""
    assert units("a co-operate http://x.y/z b") == ["a", "co-operate", "http://x.y/z", "b"]
    assert units("Hello, world.  ") == ["Hello,", "world."]


def test_paragraphs_are_streams_of_their_own() -> None:
    got = streams([spoken(0, 1000, "ab cd\r\n\nef gh")])
    assert [[w.text for w in s] for s in got] == [["ab", "cd"], ["ef", "gh"]]
    assert flat(got)[-1].end_ms == 1000


def test_words_are_shifted_and_clipped_to_the_span() -> None:
    words = (
        cue(-100, 300, "Early"),
        cue(300, 800, "on"),
        cue(800, 1400, "time,"),
        cue(1300, 1500, "   "),
        cue(1600, 1900, "late"),
    )
    (got,) = streams([spoken(2000, 3200, "ignored: words win", *words)])
    assert got == (cue(2000, 2300, "Early"), cue(2300, 2800, "on"), cue(2800, 3200, "time,"))


@pytest.mark.parametrize("script", [None, "", "   ", "\n \t\r\n", "\x00\x1f"])
def test_nothing_to_say_gives_nothing(script: str | None) -> None:
    assert streams([spoken(0, 1000, script)]) == ()


def test_a_span_without_time_gives_nothing() -> None:
    assert streams([spoken(1000, 1000, "Hello"), spoken(1000, 900, "Hello")]) == ()


def test_each_narration_is_its_own_stream() -> None:
    got = streams([spoken(0, 500, "one two"), spoken(600, 900, None, cue(0, 300, "three"))])
    assert [[w.text for w in s] for s in got] == [["one", "two"], ["three"]]


#: 21 clusters over 2.1 s: 100 ms each
NARRATED = streams([spoken(1000, 3100, "One two three. Four five.")])


def test_lines_mode_groups_the_words() -> None:
    got = captions.timed_texts(spec.Captions(), SIZE, 10_000, NARRATED)
    assert got == [(1000, 2200, "One two three."), (2200, 3100, "Four five.")]


def test_highlight_mode_colours_the_spoken_word() -> None:
    got = captions.timed_texts(spec.Captions(mode="highlight"), SIZE, 10_000, NARRATED)
    assert [(s, e) for s, e, _ in got] == [
        (1000, 1300),
        (1300, 1600),
        (1600, 2200),
        (2200, 2600),
        (2600, 3100),
    ]
    assert got[1][2] == f"One {HIGHLIGHT}two{{\\1c}} three."
    assert got[4][2] == f"Four {HIGHLIGHT}five.{{\\1c}}"


def test_word_mode_shows_one_word_at_a_time() -> None:
    got = captions.timed_texts(spec.Captions(mode="word"), SIZE, 10_000, NARRATED)
    assert [t for _, _, t in got] == ["One", "two", "three.", "Four", "five."]
    assert (got[0][0], got[-1][1]) == (1000, 3100)


def test_narration_words_are_clipped_to_the_timeline() -> None:
    got = captions.timed_texts(spec.Captions(mode="word"), SIZE, 2000, NARRATED)
    assert got == [(1000, 1300, "One"), (1300, 1600, "two"), (1600, 2000, "three.")]


def test_explicit_cues_and_narration_combine() -> None:
    cap = spec.Captions(cues=(cue(0, 1500, "A title {card}"),), offset_ms=500)
    got = captions.timed_texts(cap, SIZE, 10_000, NARRATED)
    # the cue is offset, the narration is not; both drawn, by start
    assert got == [
        (500, 2000, "A title \\{card\\}"),
        (1000, 2200, "One two three."),
        (2200, 3100, "Four five."),
    ]


def test_explicit_words_and_narration_are_grouped_apart() -> None:
    cap = spec.Captions(words=(cue(0, 400, "Hi"), cue(400, 900, "there")))
    got = captions.timed_texts(cap, SIZE, 10_000, NARRATED)
    assert got == [
        (0, 900, "Hi there"),
        (1000, 2200, "One two three."),
        (2200, 3100, "Four five."),
    ]


def test_explicit_captions_alone_are_drawn_as_before() -> None:
    cap = spec.Captions(words=(cue(0, 400, "Hi"), cue(400, 900, "there")), mode="highlight")
    assert captions.timed_texts(cap, SIZE, 10_000) == [
        (0, 400, f"{HIGHLIGHT}Hi{{\\1c}} there"),
        (400, 900, f"Hi {HIGHLIGHT}there{{\\1c}}"),
    ]
    cues = spec.Captions(cues=(cue(900, 1000, "b"), cue(0, 500, "a")), mode="word")
    assert captions.timed_texts(cues, SIZE, 10_000) == [(0, 500, "a"), (900, 1000, "b")]


def timeline(voice_text: str | None) -> Timeline:
    voice = Voice(
        url="file:///v.wav",
        field="clips[0].voiceover_url",
        delay_ms=500,
        heard_ms=3000,
        audible_ms=2500,
        volume=1.0,
        text=voice_text,
    )
    slot = ClipSlot(
        index=0,
        source="in0.mp4",
        in_ms=0,
        dur_ms=4000,
        start_ms=0,
        transition="cut",
        transition_ms=0,
        volume=1.0,
        look=Look(fit="contain"),
        voice=voice,
    )
    return Timeline(clips=(slot,), overlays=(), duration_ms=4000)


def composition(voice_text: str | None, cap: spec.Captions | None = None) -> spec.Composition:
    clip = spec.Clip(
        url="file:///in.mp4", voiceover_url="file:///v.wav", voiceover_text=voice_text
    )
    return spec.Composition(clips=(clip,), captions=cap)


FONTS = {
    f: FontFace(path=f"/fonts/{f}.ttf", family=f, em_ratio=1.164)
    for f in (spec.DEFAULT_FONT, "Brand")
}


def drawn(
    voice_text: str | None, cap: spec.Captions | None = None
) -> tuple[str, str, dict[str, str]]:
    g = GraphBuilder()
    video = g.add("nullsrc", ())
    out = text.draw(g, video, timeline(voice_text), composition(voice_text, cap), FONTS)
    graph = g.finish(out)
    return video, out, {**graph.files, **graph.links}


def test_narration_is_captioned_without_a_captions_object() -> None:
    comp = composition("Hello narrated world.")
    assert comp.text_fonts() == (spec.DEFAULT_FONT,)
    _, _, files = drawn("Hello narrated world.")
    doc = files[text.ASS_FILE]
    assert "Style: cap," in doc and "DejaVu Sans" in doc
    dialogue = [line for line in doc.splitlines() if line.startswith("Dialogue:")]
    assert len(dialogue) == 1 and dialogue[0].endswith("Hello narrated world.")
    assert "0:00:00.50,0:00:03.00" in dialogue[0]  # the audible span, from its start
    assert f"/fonts/{spec.DEFAULT_FONT}.ttf" in files.values()


def test_narration_takes_the_captions_style_mode_and_position() -> None:
    cap = spec.Captions(mode="word", position="top", style=spec.TextStyle(font="Brand"))
    assert composition("Hi there", cap).text_fonts() == ("Brand",)
    _, _, files = drawn("Hi there", cap)
    dialogue = [line for line in files[text.ASS_FILE].splitlines() if "Dialogue:" in line]
    assert [line.rsplit(",", 1)[1] for line in dialogue] == ["Hi", "there"]
    assert "Brand" in files[text.ASS_FILE] and "/fonts/Brand.ttf" in files.values()


def test_nothing_to_caption_adds_no_filter() -> None:
    video, out, files = drawn("   ")
    assert out == video and text.ASS_FILE not in files
