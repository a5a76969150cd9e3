"""Real renders, checked on the output: durations, sizes, frames at chosen times, audio levels."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.media import frame_at, peak, probe, rms_db, stream
from tests.support.render_doc import Render

pytestmark = pytest.mark.ffmpeg


def duration(path: Path) -> float:
    return float(probe(path)["format"]["duration"])


async def test_crossfades_overlap_and_output_is_the_asked_size_and_rate(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [
                {"url": media["a"], "trim_end": 2},
                {
                    "url": media["portrait"],
                    "transition_in": "crossfade",
                    "transition_duration": 0.5,
                },
                {"url": media["wide60"], "transition_in": "wipeleft", "transition_duration": 0.5},
            ],
            "output": {"resolution": "180p", "fps": 15},
        }
    )
    assert result.duration_ms == 2000 + 2000 + 2000 - 500 - 500
    info = probe(result.video)
    video, audio = stream(info, "video"), stream(info, "audio")
    assert (video["width"], video["height"], video["codec_name"]) == (320, 180, "h264")
    assert video["r_frame_rate"] == "15/1" and video["avg_frame_rate"] == "15/1"
    assert int(video["nb_frames"]) == 5 * 15
    assert audio["codec_name"] == "aac" and int(audio["sample_rate"]) == 48000
    assert abs(duration(result.video) - 5.0) < 0.05
    thumb = probe(result.thumbnail)
    assert stream(thumb, "video")["codec_name"] == "mjpeg"
    assert stream(thumb, "video")["width"] == 320
    assert "faststart" not in info["format"]  # faststart is a layout: check moov comes first
    head = result.video.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


async def test_a_crossfade_frame_blends_both_neighbours(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [
                {"url": media["red"]},
                {"url": media["blue"], "transition_in": "crossfade", "transition_duration": 1},
            ]
        }
    )
    assert result.duration_ms == 3000
    before, middle, after = (frame_at(result.video, t).mean() for t in (0.5, 1.5, 2.6))
    assert before[0] > 170 and before[2] < 40  # red
    assert after[2] > 170 and after[0] < 40  # blue
    assert 70 < middle[0] < 190 and 70 < middle[2] < 190  # both at once


async def test_a_gap_is_black_and_silent(render_doc: Render, media: dict[str, Path]) -> None:
    result = await render_doc(
        {
            "clips": [
                {"url": media["a"], "trim_end": 1},
                {"url": media["a"], "start_time": 2, "trim_end": 1},
            ]
        }
    )
    assert abs(duration(result.video) - 3.0) < 0.05
    assert max(frame_at(result.video, 1.5).mean()) < 20
    assert max(frame_at(result.video, 0.5).mean()) > 60
    assert rms_db(result.video, 1.1, 0.8) < -80
    tone = rms_db(result.video, 0.2, 0.6)
    assert -30 < tone < -15  # lavfi's sine is at -18 dBFS peak, about -21 dBFS RMS


async def test_a_source_without_audio_mixes_with_music(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [{"url": media["b"], "trim_end": 1.5}, {"url": media["a"], "trim_end": 1}],
            "audio": {"music_url": media["music"], "music_volume": 0.5},
        }
    )
    music_only = rms_db(result.video, 0.2, 1.0)
    both = rms_db(result.video, 1.7, 0.6)
    assert -35 < music_only < -20  # 0.5 volume: about 6 dB under the tone
    assert both > music_only + 2


async def test_music_loops_or_stops_and_fades(render_doc: Render, media: dict[str, Path]) -> None:
    clips = [{"url": media["b"], "trim_end": 3}]
    looped = await render_doc({"clips": clips, "audio": {"music_url": media["music"]}})
    assert rms_db(looped.video, 2.3, 0.5) > -30
    once = await render_doc(
        {"clips": clips, "audio": {"music_url": media["music"], "music_loop": False}}
    )
    assert rms_db(once.video, 2.3, 0.5) < -80
    faded = await render_doc(
        {"clips": clips, "audio": {"music_url": media["music"], "music_fade_out": 1}}
    )
    assert rms_db(faded.video, 2.8, 0.2) < rms_db(faded.video, 1.0, 0.5) - 10


async def test_voiceover_starts_at_its_delay(render_doc: Render, media: dict[str, Path]) -> None:
    result = await render_doc(
        {
            "clips": [{"url": media["b"], "trim_end": 3}],
            "audio": {"voiceover_url": media["voice"], "voiceover_delay": 1.5},
        }
    )
    assert rms_db(result.video, 0.2, 1.0) < -80
    assert rms_db(result.video, 1.7, 0.6) > -30


async def test_clip_volume_and_a_mix_that_does_not_clip(
    render_doc: Render, media: dict[str, Path]
) -> None:
    half = await render_doc({"clips": [{"url": media["a"], "trim_end": 1, "volume": 0.5}]})
    full = await render_doc({"clips": [{"url": media["a"], "trim_end": 1}]})
    drop = rms_db(full.video, 0.2, 0.6) - rms_db(half.video, 0.2, 0.6)
    assert 5 < drop < 7  # 0.5 is -6 dB
    loud = await render_doc(
        {
            "clips": [{"url": media["a"], "trim_end": 2, "volume": 4}],
            "audio": {
                "music_url": media["loud"],
                "voiceover_url": media["loud"],
                "music_volume": 2,
            },
        }
    )
    assert peak(loud.video) < 0.97
    assert rms_db(loud.video, 0.2, 1.0) > -6  # limited, not normalized into silence


async def test_fade_from_black_at_the_start(render_doc: Render, media: dict[str, Path]) -> None:
    result = await render_doc(
        {"clips": [{"url": media["red"], "transition_in": "fade", "transition_duration": 1}]}
    )
    assert frame_at(result.video, 0.0).mean()[0] < 40
    assert frame_at(result.video, 1.5).mean()[0] > 170
    assert rms_db(result.video, 0.0, 0.5) == -math.inf  # no audio source: silence


async def test_fade_through_black_between_clips(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [
                {"url": media["red"]},
                {"url": media["blue"], "transition_in": "fade", "transition_duration": 0.5},
            ]
        }
    )
    assert result.duration_ms == 4000
    assert max(frame_at(result.video, 1.95).mean()) < 50  # end of red, faded out
    assert max(frame_at(result.video, 2.0).mean()) < 50  # start of blue, fading in
    assert frame_at(result.video, 1.0).mean()[0] > 170
    assert frame_at(result.video, 3.0).mean()[2] > 170


Rgb = tuple[float, float, float]
PRESET_CHECKS: dict[str, Callable[[Rgb, Rgb], bool]] = {
    # (shifted, plain) mean colours of a reddish-grey picture
    "none": lambda s, p: max(abs(a - b) for a, b in zip(s, p, strict=True)) < 3,
    "warm": lambda s, p: s[0] - s[2] > p[0] - p[2] + 15,
    "cool": lambda s, p: s[0] - s[2] < p[0] - p[2] - 15,
    "bw": lambda s, p: abs(s[0] - s[2]) < 4 and abs(s[0] - s[1]) < 4,
    "vivid": lambda s, p: s[0] - s[2] > p[0] - p[2] + 12,
    "muted": lambda s, p: s[0] - s[2] < p[0] - p[2] - 12,
}


@pytest.mark.parametrize("preset", list(PRESET_CHECKS))
async def test_colour_presets_shift_the_picture(
    render_doc: Render, media: dict[str, Path], preset: str
) -> None:
    clips = [{"url": media["tint"], "trim_end": 1}]
    plain = frame_at((await render_doc({"clips": clips})).video, 0.5).mean()
    shifted = frame_at((await render_doc({"clips": clips, "color_preset": preset})).video, 0.5)
    assert PRESET_CHECKS[preset](shifted.mean(), plain), (preset, shifted.mean(), plain)


async def test_per_clip_preset_overrides_the_default(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [
                {"url": media["gray"], "trim_end": 1},
                {"url": media["gray"], "trim_end": 1, "color_preset": "none"},
            ],
            "color_preset": "cool",
        }
    )
    r1, _, b1 = frame_at(result.video, 0.5).mean()
    r2, _, b2 = frame_at(result.video, 1.5).mean()
    assert b1 > r1 + 15 and abs(b2 - r2) < 8


async def test_sources_are_letterboxed_and_rotation_is_honoured(
    render_doc: Render, media: dict[str, Path]
) -> None:
    for source in (media["portrait"], media["rotated"]):
        result = await render_doc({"clips": [{"url": source, "trim_end": 1}]})
        frame = frame_at(result.video, 0.5)
        assert max(frame.mean((0, 0, 60, 180))) < 20, source.name  # pillarbox, left
        assert max(frame.mean((260, 0, 320, 180))) < 20, source.name  # pillarbox, right
        assert max(frame.mean((140, 20, 180, 160))) > 40, source.name


async def test_variable_frame_rate_becomes_constant(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {"clips": [{"url": media["vfr"]}], "output": {"resolution": "180p", "fps": 12}}
    )
    video = stream(probe(result.video), "video")
    assert video["avg_frame_rate"] == "12/1" and int(video["nb_frames"]) == 24


async def test_an_overlay_is_visible_only_inside_its_window(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [{"url": media["gray"]}],
            "overlays": [
                {
                    "content": "MMMM",
                    "start_time": 0.5,
                    "duration": 0.7,
                    "style": {"size": 40, "box": True, "box_color": "white", "color": "white"},
                }
            ],
        }
    )
    centre = (110, 60, 210, 120)
    inside = frame_at(result.video, 0.8).mean(centre)
    before, after = (
        frame_at(result.video, 0.2).mean(centre),
        frame_at(result.video, 1.5).mean(centre),
    )
    assert min(inside) > 230
    assert max(before) < 140 and max(after) < 140


async def test_progress_is_reported_in_bands_and_never_goes_back(
    render_doc: Render, media: dict[str, Path]
) -> None:
    seen: list[tuple[str, float, str]] = []
    result = await render_doc(
        {"clips": [{"url": media["a"]}]},
        on_progress=lambda p: seen.append((p.stage, p.percentage, p.message)),
    )
    stages = [s for s, _, _ in seen]
    assert stages[0] == "downloading" and stages[-1] == "uploading"
    assert stages.index("validating") < stages.index("encoding") < stages.index("uploading")
    percentages = [p for _, p, _ in seen]
    assert percentages == sorted(percentages) and percentages[-1] == 90.0
    assert any(s == "encoding" and 25 < p < 90 for s, p, _ in seen)
    assert set(result.timings) >= {"downloading", "validating", "encoding", "uploading"}
