"""Pure parts of the text engine: placement, line breaks, typewriter steps."""

from __future__ import annotations

from vidsvc import spec
from vidsvc.graph import animate, layout
from vidsvc.graph.ass import colour, escape_text, timestamp

SIZE = (1280, 720)


def test_named_anchors_sit_inside_the_safe_margin() -> None:
    m = layout.safe_margin(SIZE)
    assert m == 36
    left = layout.place(spec.TextOverlay(text="x", x="left", y="top"), SIZE)
    assert (left.an, left.x, left.y, left.width) == (7, m, m, 1280 - 2 * m)
    right = layout.place(spec.TextOverlay(text="x", x="right", y="bottom"), SIZE)
    assert (right.an, right.x, right.y) == (3, 1280 - m, 720 - m)
    centre = layout.place(spec.TextOverlay(text="x"), SIZE)
    assert (centre.an, centre.x, centre.y) == (5, 640, 360)


def test_pixel_positions_shrink_the_column_to_stay_in_frame() -> None:
    style = spec.TextStyle(max_width=900)
    place = layout.place(spec.TextOverlay(text="x", x=1000, y=50, style=style), SIZE)
    assert (place.an, place.x, place.width) == (7, 1000, 1280 - 36 - 1000)


def test_align_lines_up_inside_the_column() -> None:
    style = spec.TextStyle(max_width=400, align="left")
    place = layout.place(spec.TextOverlay(text="x", x="center", style=style), SIZE)
    assert (place.an, place.x, place.width) == (4, 440, 400)


def test_cjk_breaks_and_explicit_newlines() -> None:
    lines = layout.break_lines("一二三四五六七八九十\nab", 200, 40.0)
    assert lines == ["一二三四五", "六七八九十", "ab"]
    assert layout.break_lines("plain words are left to libass", 600, 40.0) == [
        "plain words are left to libass"
    ]
    # a word that cannot fit is broken between grapheme clusters, as no-space scripts are
    assert layout.break_lines("https://example.com/a/very/long/path", 300, 40.0)[0] == ("https://")


def test_typewriter_steps_keep_clusters_whole() -> None:
    steps = animate.steps("typewriter", ["नमस्ते"], 0, 2000)
    assert len(steps) == 3  # न, म, स्ते (one cluster): the last holds to the end
    assert steps[-1].end_ms == 2000 and steps[-1].text == "नमस्ते"
    assert all("\u094d{" not in s.text for s in steps)  # never a virama before the cut
    assert steps[0].text.startswith("न" + animate.HIDDEN)


def test_ass_values() -> None:
    assert colour("0xFFD700FF") == "&H0000D7FF"
    assert colour("0x00000080") == "&H7F000000"
    assert timestamp(3_723_456) == "1:02:03.46"
    assert escape_text("a\r\nb") == "a\\Nb"
