"""Narration per clip (clips[].voiceover_*, `duration: "voiceover"`, `extend`, audio.tracks),
proven on rendered output: cuts where each narration's speech ends plus its padding, as the dry
run plans them; silence in the planned gaps, a narration waiting out its incoming crossfade;
held, looped and slowed pictures; captions from the narration's text read back; an sfx at its
time and music ducked under every narration. Bad narrations: test_narration_refusals.py.

The narrations (tests/support/narration_media.py) are flite's speech from its first sound, then
silence: the speech alone is the truth the clips' lengths are measured against.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.media import FAST, band_rms_db, ffmpeg, make_tone, make_video
from tests.support.narration_media import (
    Frames,
    Speech,
    frames,
    plain_settings,
    plan_of,
    rendered,
    silences,
    speak,
)
from tests.support.textpix import THRESHOLD, need_tesseract, ocr
from vidsvc import graph

pytestmark = pytest.mark.ffmpeg

FPS = 25
FRAME_S = 1 / FPS
GAP_TOLERANCE_S = 0.03  #: silence found in the output against the plan's gaps


# -- 1, 2, 6: three scenes as long as their narrations -------------------------------------------

RED, BLUE, GREEN = 0, 2, 1  #: the scenes' colours by the channel that dominates them
OFFSETS = (0.0, 0.3, 0.2)  #: voiceover_offset of each scene
PADDINGS = (0.25, 0.5, 0.4)  #: voiceover_padding of each (0.25: the default, not given)


@dataclass(frozen=True)
class Scenes:
    document: dict[str, Any]
    speeches: tuple[Speech, ...]
    timeline: graph.Timeline  #: render.planned's
    video: Path
    folder: Path


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Scenes:
    """A red video, a blue one and a green still, each `duration: "voiceover"`, joined by cuts;
    no clip has sound of its own and there is no music: the narrations are all that sounds."""
    d = tmp_path_factory.mktemp("scenes")
    speeches = tuple(
        speak(d, text)
        for text in ("Every morning starts here.", "The blue hour comes later.", "Then night.")
    )
    red = make_video(d / "red.mp4", source="color=c=red", size="320x180", seconds=2, tone=None)
    blue = make_video(d / "blue.mp4", source="color=c=blue", size="320x180", seconds=4, tone=None)
    green = d / "green.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=green:s=160x90", "-frames:v", "1", str(green))
    clips: list[dict[str, Any]] = []
    for k, (url, speech) in enumerate(zip((red, blue, green), speeches, strict=True)):
        clip: dict[str, Any] = {"url": url.as_uri(), "duration": "voiceover"}
        clip["voiceover_url"] = speech.url
        if OFFSETS[k]:
            clip["voiceover_offset"] = OFFSETS[k]
        if PADDINGS[k] != 0.25:
            clip["voiceover_padding"] = PADDINGS[k]
        clips.append(clip)
    document = {"clips": clips, "output": {"resolution": "180p", "fps": FPS}}
    settings = plain_settings(d)
    timeline = asyncio.run(plan_of(document, settings, d / "plan"))
    video = asyncio.run(rendered(document, settings, d / "scenes.mp4"))
    return Scenes(document, speeches, timeline, video, d)


def cuts(video: Path) -> tuple[list[int], list[float]]:
    """The scenes' colours in order, and the time of each scene's first frame; the last
    time is the video's end (its frame count over the rate)."""
    means = frames(video, size=(32, 18), pix_fmt="rgb24").mean(axis=(1, 2))
    colours = [int(np.argmax(m)) for m in means]
    order, times = [colours[0]], [0.0]
    for i in range(1, len(colours)):
        if colours[i] != colours[i - 1]:
            order.append(colours[i])
            times.append(i / FPS)
    return order, [*times, len(colours) / FPS]


def test_each_clip_lasts_its_speech_plus_padding(scenes: Scenes) -> None:
    order, found = cuts(scenes.video)
    assert order == [RED, BLUE, GREEN], order
    lengths = [b - a for a, b in itertools.pairwise(found)]
    truth = [OFFSETS[k] + s.speech_ms / 1000 + PADDINGS[k] for k, s in enumerate(scenes.speeches)]
    assert all(abs(a - b) <= FRAME_S for a, b in zip(lengths, truth, strict=True)), (
        lengths,
        truth,
    )
    ends = np.cumsum(truth)  # where each scene should end had nothing been rounded
    assert all(abs(a - b) <= FRAME_S for a, b in zip(found[1:], ends, strict=True)), (found, ends)
    planned_s = [(c.start_ms / 1000, c.end_ms / 1000) for c in scenes.timeline.clips]
    assert all(
        abs(s - a) <= FRAME_S and abs(e - b) <= FRAME_S
        for (s, e), a, b in zip(planned_s, found[:-1], found[1:], strict=True)
    ), (planned_s, found)
    assert [c.extended_ms for c in scenes.timeline.clips] == [0, 0, 0]  # both videos were long


def test_the_dry_run_plan_has_the_rendered_cuts(scenes: Scenes) -> None:
    """`vidsvc render --plan`, as a user runs it: its clip times are the rendered cuts, and
    its narrations are where render.planned put them."""
    spec = scenes.folder / "spec.json"
    spec.write_text(json.dumps(scenes.document))
    env = {**os.environ, "TMP_DIR": str(scenes.folder / "cli"), "ALLOWED_LOCAL_DIRS": "/"}
    proc = subprocess.run(
        [sys.executable, "-m", "vidsvc", "render", "--plan", str(spec)],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)["plan"]
    _, found = cuts(scenes.video)
    starts = [c["start_time"] for c in plan["clips"]]
    ends = [c["end_time"] for c in plan["clips"]]
    assert all(abs(a - b) <= FRAME_S for a, b in zip(starts, found, strict=False)), (starts, found)
    assert all(abs(a - b) <= FRAME_S for a, b in zip(ends, found[1:], strict=True)), (ends, found)
    assert abs(plan["duration"] - found[-1]) <= FRAME_S
    for clip, slot in zip(plan["clips"], scenes.timeline.clips, strict=True):
        assert (clip["start_time"], clip["end_time"]) == (slot.start_ms / 1000, slot.end_ms / 1000)
        assert slot.voice is not None
        start = slot.start_ms + slot.voice.delay_ms
        assert clip["voiceover"]["start_time"] == start / 1000
        assert clip["voiceover"]["end_time"] == (start + slot.voice.audible_ms) / 1000


def test_silence_falls_in_the_planned_gaps(scenes: Scenes) -> None:
    """Between two narrations: the first one's padding, then the next one's offset."""
    spoken = scenes.timeline.spoken()
    assert [s.start_ms for s in spoken] == [
        c.start_ms + round(OFFSETS[k] * 1000) for k, c in enumerate(scenes.timeline.clips)
    ]
    gaps = [[a.end_ms / 1000, b.start_ms / 1000] for a, b in itertools.pairwise(spoken)]
    gaps.append([spoken[-1].end_ms / 1000, scenes.timeline.duration_ms / 1000])
    found = silences(scenes.video)
    assert len(found) == len(gaps), (found, gaps)
    for (start, end), (want_start, want_end) in zip(found, gaps, strict=True):
        assert abs(start - want_start) <= GAP_TOLERANCE_S, (found, gaps)
        assert abs(end - want_end) <= GAP_TOLERANCE_S, (found, gaps)
    for k, (start, end) in enumerate(found[:-1]):  # each gap: padding + the next offset
        assert abs((end - start) - (PADDINGS[k] + OFFSETS[k + 1])) <= GAP_TOLERANCE_S, found


async def test_a_narration_waits_for_its_incoming_crossfade(tmp_path: Path) -> None:
    """The second narration starts when the crossfade into its clip has ended (the first
    frame with no red left), voiceover_offset later; the first one is not cut by it."""
    red = make_video(tmp_path / "red.mp4", source="color=c=red", size="320x180", seconds=3,
                     tone=None)  # fmt: skip
    blue = make_video(tmp_path / "blue.mp4", source="color=c=blue", size="320x180", seconds=3,
                      tone=None)  # fmt: skip
    first, second = speak(tmp_path, "Before the blend."), speak(tmp_path, "After the blend.")
    clips = [
        {"url": red.as_uri(), "duration": "voiceover", "voiceover_url": first.url,
         "voiceover_padding": 0.3},
        {"url": blue.as_uri(), "duration": "voiceover", "voiceover_url": second.url,
         "transition_in": "crossfade", "transition_duration": 0.6, "voiceover_offset": 0.2},
    ]  # fmt: skip
    document = {"clips": clips, "output": {"resolution": "180p", "fps": FPS}}
    settings = plain_settings(tmp_path)
    timeline = await plan_of(document, settings, tmp_path / "plan")
    video = await rendered(document, settings, tmp_path / "blend.mp4")
    reds = frames(video, size=(32, 18), pix_fmt="rgb24")[..., 0].mean(axis=(1, 2))
    blended = next(i for i, r in enumerate(reds) if r < 250) / FPS  # the crossfade begins
    settled = next(i for i, r in enumerate(reds) if r < 5) / FPS  # and is over
    (gap, _end) = silences(video)
    spoken = timeline.spoken()
    assert abs(settled - blended - 0.6) <= 2 * FRAME_S, (blended, settled)
    assert abs(gap[1] - (settled + 0.2)) <= FRAME_S + GAP_TOLERANCE_S, (gap, settled)
    assert abs(gap[0] - first.speech_ms / 1000) <= GAP_TOLERANCE_S, (gap, first)  # not cut
    assert abs(gap[0] - spoken[0].end_ms / 1000) <= GAP_TOLERANCE_S, (gap, spoken)
    assert abs(gap[1] - spoken[1].start_ms / 1000) <= GAP_TOLERANCE_S, (gap, spoken)
    assert spoken[1].start_ms == timeline.clips[1].start_ms + 600 + 200


# -- 3: a source shorter than its narration: held, looped, slowed ---------------------------------

TRIM = (0.4, 1.0)  #: the range each extended clip shows: 15 frames at 25 fps
FIRST, LAST = round(TRIM[0] * FPS), round(TRIM[1] * FPS) - 1  #: its first and last frames
#: Mean absolute difference (0-255) between two output frames: below STILL the picture did not
#: change (x264 refines a held frame by a few hundredths); below SAME they are one source frame
#: encoded twice (measured 0.3); above MOVED the picture changed (measured 2.0 at least).
STILL, SAME, MOVED = 0.25, 0.75, 1.5


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Speech]:
    """3 s of testsrc at the output's size and rate with a white bar moving 12 px a frame (no
    two frames alike), and a narration over three times as long as TRIM's range."""
    d = tmp_path_factory.mktemp("moving")
    picture = (f"testsrc=s=320x180:r={FPS}:d=3[t];color=c=white:s=20x180:r={FPS}[bar];"
               "[t][bar]overlay=x='mod(n*12,308)':y=0:shortest=1")  # fmt: skip
    source = d / "moving.mp4"
    ffmpeg("-filter_complex", picture, *FAST, str(source))
    return source, speak(d, "Hold it, loop it, slow it down.")


def nearest(shown: Frames, source: Frames) -> tuple[list[int], float]:
    """For each shown frame, the source frame it is (the nearest by mean absolute difference),
    and the largest of those differences (encoding noise)."""
    per = [np.abs(source - f).mean(axis=(1, 2)) for f in shown]
    return [int(np.argmin(d)) for d in per], max(float(d.min()) for d in per)


@pytest.mark.parametrize("extend", ["hold", "loop", "slow"])
async def test_a_short_source_is_extended_to_its_narration(
    moving: tuple[Path, Speech], tmp_path: Path, extend: str
) -> None:
    source, speech = moving
    clip = {"url": source.as_uri(), "trim_start": TRIM[0], "trim_end": TRIM[1],
            "duration": "voiceover", "voiceover_url": speech.url, "extend": extend}  # fmt: skip
    document = {"clips": [clip], "output": {"resolution": "180p", "fps": FPS}}
    settings = plain_settings(tmp_path)
    (slot,) = (await plan_of(document, settings, tmp_path / "plan")).clips
    video = await rendered(document, settings, tmp_path / f"{extend}.mp4")
    shown, original = frames(video, size=(320, 180)), frames(source, size=(320, 180))
    n, span = len(shown), LAST - FIRST + 1
    assert abs(n / FPS - slot.dur_ms / 1000) <= FRAME_S and n > 3 * span, (n, slot)
    assert slot.extended_ms == slot.dur_ms - round((TRIM[1] - TRIM[0]) * 1000)
    which, noise = nearest(shown, original)
    moves = np.abs(np.diff(shown, axis=0)).mean(axis=(1, 2))  # frame i+1 against frame i
    if extend == "hold":
        assert which == [*range(FIRST, LAST + 1), *[LAST] * (n - span)], which
        assert moves[: span - 1].min() > MOVED and moves[span - 1 :].max() < STILL, moves
    elif extend == "loop":
        assert which == [FIRST + i % span for i in range(n)], which
        after, first, last = shown[span], shown[0], shown[span - 1]  # the range's end + 1
        assert np.abs(after - first).mean() < SAME < MOVED < np.abs(after - last).mean()
    else:  # each source frame twice (2x, the most `slow` slows), then the last one held
        assert which == [min(FIRST + i // 2, LAST) for i in range(n)], which
        slowed = moves[: 2 * (span - 1)]
        assert slowed[0::2].max() < STILL and slowed[1::2].min() > MOVED, slowed  # half the rate
        assert moves[2 * (span - 1) :].max() < STILL, moves  # held after 2x the range
    assert noise < 1.0


# -- 4: captions from the narration's text, read back ---------------------------------------------

CAPTION_FPS = 10
CAPTIONED = ("Red fox", "Blue sky")  #: spoken and captioned: short words, one line each


def text_pixels(frame: Frames) -> int:
    """Pixels of a frame of a black clip that are text (textpix's threshold)."""
    return int((np.abs(frame - frame[0, 0]) > THRESHOLD).sum())


def read_text(frame: Frames, folder: Path) -> str:
    """Tesseract's reading of light text on black, inverted to dark on light."""
    h, w = frame.shape
    image = folder / "caption.pgm"
    image.write_bytes(f"P5 {w} {h} 255\n".encode() + (255 - frame).astype(np.uint8).tobytes())
    return ocr(image, "eng")


async def test_narration_text_is_captioned_over_its_speech_only(tmp_path: Path) -> None:
    need_tesseract("eng")
    black = make_video(tmp_path / "black.mp4", source="color=c=black", size="640x360",
                       rate=CAPTION_FPS, seconds=4, tone=None)  # fmt: skip
    speeches = [speak(tmp_path, text) for text in CAPTIONED]
    clips = [
        {"url": black.as_uri(), "duration": "voiceover", "voiceover_url": s.url,
         "voiceover_text": s.text, "voiceover_padding": 0.8}
        for s in speeches
    ]  # fmt: skip
    clips[1]["voiceover_offset"] = 0.4
    document = {
        "clips": clips,
        "captions": {"style": {"size": 64}},  # the style alone: no url, cues nor words
        "output": {"resolution": "360p", "fps": CAPTION_FPS},
    }
    settings = plain_settings(tmp_path)
    timeline = await plan_of(document, settings, tmp_path / "plan")
    video = await rendered(document, settings, tmp_path / "captioned.mp4")
    shown = frames(video, size=(640, 360))

    def at(seconds: float) -> Frames:
        frame: Frames = shown[int(seconds * CAPTION_FPS + 1e-6)]
        return frame

    spoken = timeline.spoken()
    read = []
    for s, speech in zip(spoken, speeches, strict=True):
        start, end = s.start_ms / 1000, s.end_ms / 1000
        assert abs(end - start - speech.speech_ms / 1000) <= 0.02  # the audible span
        read.append(read_text(at((start + end) / 2), tmp_path))
        assert text_pixels(at(start + 0.1)) > 500 and text_pixels(at(end - 0.1)) > 500
    assert read == list(CAPTIONED), read
    quiet = [spoken[0].end_ms / 1000 + 0.1, spoken[1].start_ms / 1000 - 0.1]
    quiet += [spoken[1].end_ms / 1000 + 0.1, timeline.duration_ms / 1000 - 0.1]
    quiet += [(spoken[0].end_ms + spoken[1].start_ms) / 2000]
    assert [text_pixels(at(t)) for t in quiet] == [0] * len(quiet)


# -- 5: an sfx track at its time, music ducked under every narration ------------------------------

#: In these bands flite's voice is about 20 dB below the music (10 below it ducked: it adds
#: at most 0.4 dB to the ducked level) and 30 dB or more below the sfx (measured on the files).
MUSIC_HZ, SFX_HZ = 200, 3000
SOUND_PADDING, SOUND_OFFSET = 1.0, 0.5  #: gaps of 1.5 s between narrations
SFX_AFTER_S = 0.9  #: the sfx starts this far into the first gap


@dataclass(frozen=True)
class Mix:
    video: Path
    spoken: tuple[tuple[float, float], ...]  #: each narration's audible span (s), planned
    sfx_at: float


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> Mix:
    """Three narrated clips of a silent picture over looped music, ducked, and one sfx."""
    d = tmp_path_factory.mktemp("mix")
    bed = make_video(d / "bed.mp4", source="color=c=gray", size="320x180", rate=10, seconds=4,
                     tone=None)  # fmt: skip
    speeches = [speak(d, t) for t in ("Music goes down now.", "And again here.", "Last one.")]
    music = make_tone(d / "music.wav", freq=MUSIC_HZ, seconds=2.0, volume=4)
    sfx = make_tone(d / "sfx.wav", freq=SFX_HZ, seconds=0.4, volume=2)
    clips: list[dict[str, Any]] = [
        {"url": bed.as_uri(), "duration": "voiceover", "voiceover_url": s.url,
         "voiceover_padding": SOUND_PADDING, "voiceover_offset": SOUND_OFFSET if k else 0}
        for k, s in enumerate(speeches)
    ]  # fmt: skip
    sfx_at = round(speeches[0].speech_ms / 1000 + SFX_AFTER_S, 3)
    document = {
        "clips": clips,
        "audio": {
            "ducking": True,
            "tracks": [
                {"url": music.as_uri(), "role": "music"},
                {"url": sfx.as_uri(), "role": "sfx", "start_time": sfx_at},
            ],
        },
        "output": {"resolution": "180p", "fps": 10},
    }
    settings = plain_settings(d)
    timeline = asyncio.run(plan_of(document, settings, d / "plan"))
    video = asyncio.run(rendered(document, settings, d / "mix.mp4"))
    spoken = tuple((s.start_ms / 1000, s.end_ms / 1000) for s in timeline.spoken())
    return Mix(video, spoken, sfx_at)


def test_an_sfx_sounds_from_its_start_time(mix: Mix) -> None:
    at = mix.sfx_at
    before = band_rms_db(mix.video, at - 0.2, 0.15, SFX_HZ)
    after = band_rms_db(mix.video, at + 0.05, 0.15, SFX_HZ)
    gone = band_rms_db(mix.video, at + 0.55, 0.15, SFX_HZ)  # it lasts 0.4 s
    assert after > -30 and after - before >= 20 and after - gone >= 20, (before, after, gone)


def test_music_is_ducked_under_every_narration(mix: Mix) -> None:
    def music(start: float, end: float) -> float:
        return band_rms_db(mix.video, start, end - start, MUSIC_HZ)

    under = [music(start + 0.2, end - 0.1) for start, end in mix.spoken]
    # the last 0.6 s of each gap: the ducking's 0.4 s release is over; the first has the sfx
    between = [music(a[1] + 0.9, b[0] - 0.1) for a, b in itertools.pairwise(mix.spoken)]
    assert max(under) <= min(between) - 6, (under, between)
    assert max(between) - min(between) <= 1.5, between  # an sfx is not a voice: no ducking
