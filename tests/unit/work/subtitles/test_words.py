"""WebVTT inline timestamps are word timings: in `highlight` and `word` modes they become the
captions' words (YouTube's rolling lines give each spoken word once)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from vidsvc.config import Settings
from vidsvc.graph import captions
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.captionfile import with_caption_file
from vidsvc.work.compositions.subtitles import read

FILES = Path(__file__).parents[3] / "support" / "subtitles"


def words(name: str) -> list[tuple[int, int, str]]:
    subs = read((FILES / name).read_bytes(), words=True)
    return [(w.start_ms, w.end_ms, w.text) for w in subs.words]


def test_karaoke_timestamps_time_each_word() -> None:
    got = words("webvtt-py/cue_tags.vtt")
    assert got[:6] == [  # "When the moon <00:17.500>hits your eye" over 16.5 → 18.5 s
        (16500, 16833, "When"),
        (16833, 17167, "the"),
        (17167, 17500, "moon"),
        (17500, 17833, "hits"),
        (17833, 18167, "your"),
        (18167, 18500, "eye"),
    ]
    assert got[-2:] == [(20500, 21000, "That's"), (21000, 21500, "amore")]


def test_youtube_rolling_captions_give_each_word_once() -> None:
    assert words("crafted/youtube_auto.vtt") == [
        (0, 240, "hello"),
        (240, 480, "everyone"),
        (480, 720, "and"),
        (720, 1190, "welcome"),
        (1200, 1500, "to"),
        (1500, 1800, "the"),
        (1800, 2900, "show"),
    ]
    real = words("webvtt-py/youtube_dl.vtt")
    assert [w for _, _, w in real] == ["yeah", "what", "this", "will", "happen", "is", "I'm",
                                       "telling"]  # fmt: skip
    assert real[-1] == (305069, 305569, "telling")  # timed at its cue's very end


def test_without_inline_timestamps_or_in_lines_mode_a_file_gives_cues() -> None:
    assert words("webvtt-py/comments.vtt") == []
    assert read((FILES / "crafted/youtube_auto.vtt").read_bytes()).words == ()


async def test_highlight_mode_reads_the_words_into_the_composition(tmp_path: Path) -> None:
    path = tmp_path / "yt.vtt"
    path.write_bytes((FILES / "crafted/youtube_auto.vtt").read_bytes())
    settings = Settings.from_env({"ALLOWED_LOCAL_DIRS": str(tmp_path), "TMP_DIR": str(tmp_path)})
    doc = {"clips": [{"url": "file:///x.mp4"}], "captions": {"url": path.as_uri()}}
    comp = parse_composition(doc)
    assert comp.captions is not None
    for mode, cues, found in (("highlight", 0, 7), ("word", 0, 7), ("lines", 4, 0)):
        moded = dataclasses.replace(comp, captions=dataclasses.replace(comp.captions, mode=mode))
        work = tmp_path / mode
        work.mkdir()
        read_in, meta = await with_caption_file(moded, work, settings)
        cap = read_in.captions
        assert cap is not None and cap.url is None
        assert (len(cap.cues), len(cap.words)) == (cues, found)
        assert meta == {"format": "vtt", "encoding": "utf-8", "cues": 4} | (
            {"words": 7} if found else {}
        )
        if mode == "highlight":  # the graph highlights each word at its own time
            events = captions.timed_texts(cap, (640, 360), 3000)
            assert [start for start, _, _ in events] == [0, 240, 480, 720, 1200, 1500, 1800]
