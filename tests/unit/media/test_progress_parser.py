"""ProgressParser: FFmpeg's -progress blocks, fed line by line."""

from __future__ import annotations

import pytest

from vidsvc.media.progress import FFmpegProgress, ProgressParser, eta_seconds

BLOCK = """frame=75
fps=25.00
stream_0_0_q=28.0
bitrate= 100.2kbits/s
total_size=37632
out_time_us=3000000
out_time_ms=3000000
out_time=00:00:03.000000
dup_frames=0
drop_frames=0
speed=1.51x
progress=continue
"""


def feed_all(parser: ProgressParser, text: str) -> list[FFmpegProgress]:
    return [p for line in text.splitlines() if (p := parser.feed(line)) is not None]


def test_a_block_becomes_one_progress() -> None:
    assert feed_all(ProgressParser(), BLOCK) == [
        FFmpegProgress(
            out_time_ms=3000,
            speed=1.51,
            frame=75,
            done=False,
            fps=25.0,
            bitrate_kbps=100.2,
            total_size=37632,
            dup_frames=0,
            drop_frames=0,
        )
    ]


def test_end_block_is_done() -> None:
    text = BLOCK + "frame=80\nout_time_us=3200000\nspeed=1.5x\nprogress=end\n"
    got = feed_all(ProgressParser(), text)
    assert [p.out_time_ms for p in got] == [3000, 3200]
    assert got[-1].done and not got[0].done


def test_nothing_until_the_block_ends() -> None:
    parser = ProgressParser()
    assert all(parser.feed(line) is None for line in BLOCK.splitlines()[:-1])
    assert parser.feed("progress=continue") is not None


@pytest.mark.parametrize(
    ("lines", "expected_ms"),
    [
        (["out_time_us=1234567"], 1234),
        (["out_time_us=N/A", "out_time_ms=2500000"], 2500),  # out_time_ms is in µs
        (["out_time_us=N/A", "out_time_ms=N/A", "out_time=01:02:03.5"], 3723500),
        (["out_time=00:00:01.250000"], 1250),
        (["out_time_us=N/A", "out_time=N/A"], 0),
        (["out_time_us=-577014", "out_time=-00:00:00.577014"], 0),  # before the first packet
        ([], 0),
    ],
)
def test_out_time_sources(lines: list[str], expected_ms: int) -> None:
    parser = ProgressParser()
    for line in lines:
        assert parser.feed(line) is None
    progress = parser.feed("progress=continue")
    assert progress is not None
    assert progress.out_time_ms == expected_ms


@pytest.mark.parametrize(
    ("raw", "speed"),
    [("1.51x", 1.51), ("N/A", None), ("  0.5x", 0.5), ("nanx", None), ("fast", None)],
)
def test_speed(raw: str, speed: float | None) -> None:
    parser = ProgressParser()
    parser.feed(f"speed={raw}")
    progress = parser.feed("progress=continue")
    assert progress is not None
    assert progress.speed == speed


def test_na_frame_and_garbage_lines() -> None:
    parser = ProgressParser()
    for line in ("", "garbage without equals", "frame=N/A", "out_time_us=10000"):
        assert parser.feed(line) is None
    assert parser.feed("progress=continue\r\n") == FFmpegProgress(
        out_time_ms=10, speed=None, frame=None, done=False
    )


def test_time_never_goes_backwards_and_blocks_do_not_leak() -> None:
    parser = ProgressParser()
    first = feed_all(parser, "frame=9\nout_time_us=5000000\nprogress=continue\n")
    second = feed_all(parser, "out_time_us=4000000\nprogress=continue\n")
    assert first[0].out_time_ms == 5000
    assert second == [FFmpegProgress(out_time_ms=5000, speed=None, frame=None, done=False)]


def test_stats_are_the_last_block_figures() -> None:
    (progress,) = feed_all(ProgressParser(), BLOCK.replace("bitrate= 100.2", "bitrate=N/A"))
    assert progress.stats() == {
        "frames": 75, "fps": 25.0, "speed": 1.51, "dup_frames": 0, "drop_frames": 0,
        "total_size": 37632, "bitrate_kbps": None, "out_time_s": 3.0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("out_ms", "speed", "total_ms", "eta"),
    [
        (3000, 1.5, 12000, 6.0),  # 9 s of output left at 1.5x
        (3000, 0.5, 4000, 2.0),  # slower than realtime: more wall time than output time
        (12000, 2.0, 10000, 0.0),  # past the planned end (rounding): never negative
        (3000, None, 12000, None),  # N/A: no ETA rather than a wild one
        (3000, 0.0, 12000, None),  # a stalled encoder has no finite ETA
    ],
)
def test_eta_from_speed_and_output_time_left(
    out_ms: int, speed: float | None, total_ms: int, eta: float | None
) -> None:
    progress = FFmpegProgress(out_time_ms=out_ms, speed=speed, frame=None, done=False)
    assert eta_seconds(progress, total_ms) == eta
