"""output.range and output.draft, on real renders: a range is the full render's frames, text,
captions, overlays and sound over the same seconds, compared frame by frame (PSNR) and sample
by sample (level, alignment) with one full render of the same composition.

The composition: six 4 s clips of distinct moving pictures (and pink noise of distinct seeds:
an alignment error of one sample is measurable) with crossfades and fades, a text overlay,
caption cues, a logo and looping music brought to -16 LUFS, at 640x360 25 fps, encoded
near-losslessly (crf 8) so a frame's PSNR says which frame it is, not how the encoder did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.compare import RATE, frame_count, frames, lag, pcm, psnr, rms_db
from tests.support.media import FAST, ffmpeg, probe, stream
from vidsvc.config import Settings
from vidsvc.errors import InvalidTimeline, ValidationError
from vidsvc.runner.reporter import Reporter
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.prepared import RenderResult
from vidsvc.work.compositions.render import planned, render

pytestmark = pytest.mark.ffmpeg

FPS, W, H = 25, 640, 360
PICTURES = [  # each frame far from its neighbours (PSNR < 25 dB), so one frame off shows
    "testsrc2=s=480x270:r=25",
    "smptehdbars=s=480x270:r=25,scroll=h=0.021",
    "life=s=480x270:r=25:seed=7:ratio=0.3:mold=10",
    "mandelbrot=s=480x270:r=25",
    "cellauto=s=480x270:r=25:seed=3:rule=110",
    "gradients=s=480x270:r=25:seed=5:speed=0.5:n=5",
]
#: clips[i] starts at: 0 (fades in from black), 3.5 (crossfade 0.5), 7.5 (fade through black,
#: 1 s), 10.5 (crossfade 1), 14.5 (cut), 18 (crossfade 0.5); the timeline is 22 s
STARTS_MS = [0, 3500, 7500, 10500, 14500, 18000]
TOTAL_MS = 22_000
TRANSITIONS: list[dict[str, Any]] = [
    {"transition_in": "fade", "transition_duration": 1},
    {"transition_in": "crossfade", "transition_duration": 0.5},
    {"transition_in": "fade", "transition_duration": 1},
    {"transition_in": "crossfade", "transition_duration": 1},
    {},
    {"transition_in": "crossfade", "transition_duration": 0.5},
]


@dataclass(frozen=True)
class Made:
    """The composition on disk: its media, the document that names them, the settings."""

    document: dict[str, Any]
    settings: Settings
    root: Path

    def with_output(self, **output: Any) -> dict[str, Any]:
        return {**self.document, "output": {**self.document["output"], **output}}


@dataclass(frozen=True)
class Full:
    made: Made
    result: RenderResult


def _settings(root: Path) -> Settings:
    return Settings.from_env(
        {
            "TMP_DIR": str(root / "work"),
            "ALLOWED_LOCAL_DIRS": "/",
            "X264_PRESET": "ultrafast",
            "JOB_TIMEOUT": "120",
            "RATE_LIMIT_PER_MINUTE": "0",
        }
    )


def _media(d: Path) -> dict[str, Path]:
    made: dict[str, Path] = {}
    for i, picture in enumerate(PICTURES):
        made[f"c{i}"] = path = d / f"c{i}.mp4"
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            picture,
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=d=4:c=pink:seed={11 + i}:a=0.25:r={RATE}",
            "-t",
            "4",
            *FAST,
            "-c:a",
            "aac",
            "-ar",
            str(RATE),
            str(path),
        )
    made["music"] = d / "music.wav"  # 9 s: it loops over the 22 s timeline
    ffmpeg(
        "-f", "lavfi", "-i", f"anoisesrc=d=9:c=brown:seed=99:a=0.3:r={RATE}", str(made["music"])
    )
    made["logo"] = d / "logo.png"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=orange:s=96x48",
        "-vf",
        "format=rgba,geq=r=255:g=140:b=0:a='if(lt(X,48),255,120)'",
        "-frames:v",
        "1",
        str(made["logo"]),
    )
    return made


def _document(media: dict[str, Path], **output: Any) -> dict[str, Any]:
    return {
        "clips": [
            {"url": media[f"c{i}"].as_uri(), **TRANSITIONS[i]} for i in range(len(PICTURES))
        ],
        "overlays": [
            {
                "content": "Range check",
                "position": {"x": "left", "y": "top"},
                "start_time": 2,
                "duration": 17,
                "style": {"size": 36, "fade_in": 0.5},
            },
            {
                "type": "image",
                "url": media["logo"].as_uri(),
                "position": {"x": "right", "y": "top"},
                "start_time": 6,
                "duration": 15,
                "fade_in": 1.0,
                "fade_out": 1.0,
            },
        ],
        "captions": {
            "cues": [
                {"start": 1.0, "end": 5.2, "text": "First words here"},
                {"start": 7.6, "end": 11.0, "text": "Across the fade"},
                {"start": 12.5, "end": 19.0, "text": "Into the last clips"},
                {"start": 19.5, "end": 21.8, "text": "The end"},
            ],
            "style": {"size": 28},
        },
        "audio": {"music_url": media["music"].as_uri(), "music_volume": 0.6, "loudness_lufs": -16},
        "output": {"resolution": "360p", "fps": FPS, "crf": 8, **output},
    }


async def _render(settings: Settings, document: dict[str, Any], out: Path) -> RenderResult:
    return await render(
        parse_composition(document), settings, video_out=out, thumbnail_out=out.with_suffix(".jpg")
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    root = tmp_path_factory.mktemp("range")
    return Made(document=_document(_media(root)), settings=_settings(root), root=root)


@pytest.fixture(scope="module")
def full(made: Made) -> Full:
    result = asyncio.run(_render(made.settings, made.document, made.root / "full.mp4"))
    assert result.duration_ms == TOTAL_MS
    return Full(made=made, result=result)


@pytest.fixture(scope="module")
def ranged(made: Made) -> Callable[[float, float], RenderResult]:
    """The range [start, start + duration) of the full render's composition, rendered once."""
    renders: dict[tuple[float, float], RenderResult] = {}

    def get(start: float, duration: float) -> RenderResult:
        if (start, duration) not in renders:
            document = made.with_output(range={"start": start, "duration": duration})
            out = made.root / f"range-{start}-{duration}.mp4"
            renders[start, duration] = asyncio.run(_render(made.settings, document, out))
        return renders[start, duration]

    return get


# --- the ranges ---------------------------------------------------------------------------


def frame_of(ms: int, fps: int = FPS) -> int:
    """The output frame at `ms`, as the full render numbers them (graph/segments.frame_at)."""
    return round(ms * fps / 1000)


RANGES = [
    # (id, start, duration): where it starts or ends, which clips it needs
    pytest.param(10.8, 2.4, id="starts-in-a-crossfade"),  # c2→c3 (10.5-11.5 s)
    pytest.param(18.2, 2.0, id="starts-in-the-last-crossfade"),  # c4→c5 (18-18.5 s)
    pytest.param(7.9, 2.0, id="starts-in-a-fade-in"),  # c2 fades in from black (7.5-8.5 s)
    pytest.param(0.4, 1.5, id="starts-in-the-opening-fade"),  # c0 from black (0-1 s)
    pytest.param(12.0, 6.2, id="ends-in-a-crossfade"),  # ends in c4→c5
    pytest.param(5.0, 1.5, id="inside-one-clip"),  # c1 alone, 1.5 s after its crossfade
    pytest.param(20.0, 2.0, id="the-last-2s"),
    pytest.param(19.5, 10.0, id="ends-past-the-end"),  # cut at 22 s: 2.5 s
]


def _span(start: float, duration: float) -> tuple[int, int]:
    """The range in ms on the full timeline, cut at its end."""
    start_ms = round(start * 1000)
    return start_ms, min(start_ms + round(duration * 1000), TOTAL_MS)


@pytest.mark.parametrize(("start", "duration"), RANGES)
def test_a_ranges_frames_are_the_full_renders_frames_there(
    full: Full, ranged: Callable[[float, float], RenderResult], start: float, duration: float
) -> None:
    result = ranged(start, duration)
    start_ms, end_ms = _span(start, duration)
    first, count = frame_of(start_ms), frame_of(end_ms) - frame_of(start_ms)
    assert result.duration_ms == end_ms - start_ms
    assert frame_count(result.video) == count
    assert abs(count - (end_ms - start_ms) * FPS / 1000) <= 0.5  # round(duration * fps)
    info = stream(probe(result.video), "video")
    assert (info["width"], info["height"], info["r_frame_rate"]) == (W, H, f"{FPS}/1")

    ks = sorted({0, 1, count // 3, count // 2, count - 2, count - 1})
    range_frames = frames(result.video, ks)
    whole = frames(
        full.result.video,
        sorted({first + k + d for k in ks for d in (0, 1) if first + k + d < frame_of(TOTAL_MS)}),
    )
    scores = {k: round(psnr(range_frames[k], whole[first + k]), 1) for k in ks}
    # the test can fail: the full render's neighbouring frames are far apart
    neighbours = [round(psnr(whole[first + k], whole[first + k + 1]), 1) for k in ks[:-1]]
    assert max(neighbours) < 36, neighbours
    assert min(scores.values()) >= 40, {"psnr by range frame": scores, "neighbours": neighbours}


@pytest.mark.parametrize(("start", "duration"), RANGES)
def test_a_ranges_sound_is_the_full_renders_sound_there(
    full: Full, ranged: Callable[[float, float], RenderResult], start: float, duration: float
) -> None:
    result = ranged(start, duration)
    start_ms, end_ms = _span(start, duration)
    sound = pcm(result.video)
    reference = pcm(full.result.video, start_ms, end_ms - start_ms)
    assert abs(len(sound) - (end_ms - start_ms) * RATE // 1000) <= 1024  # AAC's last frame
    level, expected = rms_db(sound), rms_db(reference)
    assert abs(level - expected) <= 0.5, (level, expected)
    # the same gain to the loudness target: measured on the whole mix in both
    assert result.notes["loudness"]["gain_db"] == full.result.notes["loudness"]["gain_db"]
    assert (
        result.notes["loudness"]["measured_lufs"] == full.result.notes["loudness"]["measured_lufs"]
    )
    shift = lag(reference, sound)
    assert abs(shift) <= 2, f"the range's sound is {shift} samples ({shift / 48:+.1f} ms) late"


def test_the_composition_is_laid_out_as_the_ranges_assume(made: Made, tmp_path: Path) -> None:
    comp = parse_composition(made.document)
    plan = asyncio.run(planned(comp, made.settings, tmp_path, Reporter(None)))
    assert [c.start_ms for c in plan.timeline.clips] == STARTS_MS
    assert plan.timeline.duration_ms == TOTAL_MS


@pytest.mark.parametrize(
    ("start", "duration", "kept"),
    [
        (10.8, 2.4, [2, 3]),
        (18.2, 2.0, [4, 5]),
        (7.9, 2.0, [2]),
        (0.4, 1.5, [0]),
        (12.0, 6.2, [3, 4, 5]),
        (5.0, 1.5, [1]),
        (20.0, 2.0, [5]),
        (19.5, 10.0, [5]),
    ],
)
def test_a_range_opens_only_the_clips_it_needs_and_the_music(
    ranged: Callable[[float, float], RenderResult], start: float, duration: float, kept: list[int]
) -> None:
    argv = ranged(start, duration).argv
    opened = [argv[k + 1] for k, arg in enumerate(argv) if arg == "-i"]
    # clips[i] is staged as in{i}.mp4, each opened for its pictures and for its sound
    assert sorted(n for n in opened if n.endswith(".mp4")) == sorted(
        f"in{i}.mp4" for i in kept for _ in "av"
    )
    assert [n for n in opened if n.endswith(".wav")] == ["in7.wav"]


async def test_a_draft_range_is_640x360_at_15_fps_and_as_long_as_the_range(
    made: Made, tmp_path: Path
) -> None:
    document = made.with_output(
        resolution="720p", draft=True, range={"start": 3.3, "duration": 4.2}
    )
    result = await _render(made.settings, document, tmp_path / "draft.mp4")
    info = stream(probe(result.video), "video")
    assert (info["width"], info["height"], info["r_frame_rate"]) == (640, 360, "15/1")
    assert frame_count(result.video) == frame_of(7500, 15) - frame_of(3300, 15) == 62
    assert result.duration_ms == 4200
    assert abs(float(probe(result.video)["format"]["duration"]) - 4.2) < 0.07
    assert "ultrafast" in result.argv
    assert abs(len(pcm(result.video)) - 4200 * RATE // 1000) <= 1024


async def test_a_range_starting_past_the_end_is_invalid_timeline_naming_output_range(
    made: Made, tmp_path: Path
) -> None:
    for start in (22.0, 30.0):
        document = made.with_output(range={"start": start, "duration": 2})
        work = tmp_path / f"plan-{start}"
        work.mkdir()
        with pytest.raises(InvalidTimeline) as err:
            await planned(parse_composition(document), made.settings, work, Reporter(None))
        assert err.value.code == "INVALID_TIMELINE"
        assert err.value.details["field"] == "output.range"


@pytest.mark.parametrize(
    ("range_", "field"),
    [
        ({"start": 2, "duration": 0}, "output.range.duration"),
        ({"duration": 2}, "output.range.start"),
    ],
)
async def test_a_zero_or_missing_range_value_is_validation_error(
    made: Made, tmp_path: Path, range_: dict[str, float], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        await _render(made.settings, made.with_output(range=range_), tmp_path / "never.mp4")
    assert err.value.code == "VALIDATION_ERROR"
    assert err.value.details["field"] == field
    assert not (tmp_path / "never.mp4").exists()
