"""Finished sound (issue 13), measured on rendered audio: voiceover fades, ducking, loudness.

The music is a tone and the voiceover another, so each can be measured inside the mix by
band-passing around its own frequency.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import band_rms_db, ffmpeg, loudness, make_tone
from tests.support.render_doc import Render
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render

pytestmark = pytest.mark.ffmpeg

MUSIC_HZ, VOICE_HZ = 220, 1760


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tones")
    return {
        "music": make_tone(d / "music.wav", freq=MUSIC_HZ, seconds=6.0, volume=2.0),
        "voice": make_tone(d / "voice.wav", freq=VOICE_HZ, seconds=1.5, volume=2.0),
        "quiet_voice": make_tone(d / "qvoice.wav", freq=VOICE_HZ, seconds=1.5, volume=0.1),
        "loud": make_tone(d / "loud.wav", freq=500, seconds=4.0, volume=8.0),
        "quiet": make_tone(d / "quiet.wav", freq=500, seconds=4.0, volume=0.05),
    }


def _bed(media: dict[str, Path]) -> list[dict[str, Any]]:
    # 5 s of picture without sound of its own
    return [{"url": media["b"], "trim_end": 3}, {"url": media["b"], "trim_end": 2}]


async def test_voiceover_fades_in_and_out(
    render_doc: Render, media: dict[str, Path], tones: dict[str, Path]
) -> None:
    audio = {"voiceover_url": tones["voice"], "voiceover_delay": 1}
    plain = await render_doc({"clips": _bed(media), "audio": audio})
    faded = await render_doc(
        {
            "clips": _bed(media),
            "audio": {**audio, "voiceover_fade_in": 0.6, "voiceover_fade_out": 0.6},
        }
    )
    for at in (1.05, 2.3):  # just inside the fade in (voice at 1..2.5 s), and the fade out
        assert (
            band_rms_db(faded.video, at, 0.1, VOICE_HZ)
            < band_rms_db(plain.video, at, 0.1, VOICE_HZ) - 6
        )
    middle = band_rms_db(faded.video, 1.65, 0.2, VOICE_HZ)
    assert abs(middle - band_rms_db(plain.video, 1.65, 0.2, VOICE_HZ)) < 1


async def test_clip_audio_follows_a_fade_through_black(
    render_doc: Render, media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [
                {"url": media["a"], "trim_end": 2},
                {"url": media["a"], "trim_end": 2, "transition_in": "fade",
                 "transition_duration": 0.8},
            ]
        }
    )  # fmt: skip
    steady = band_rms_db(result.video, 0.5, 0.5, 440)
    assert band_rms_db(result.video, 1.9, 0.1, 440) < steady - 10  # the first clip fades out
    assert band_rms_db(result.video, 2.0, 0.1, 440) < steady - 10  # the second fades in
    assert abs(band_rms_db(result.video, 3.2, 0.5, 440) - steady) < 1


@pytest.mark.parametrize("voice", ["voice", "quiet_voice"])
async def test_ducking_lowers_the_music_under_the_voice(
    render_doc: Render, media: dict[str, Path], tones: dict[str, Path], voice: str
) -> None:
    audio = {"music_url": tones["music"], "voiceover_url": tones[voice], "voiceover_delay": 2}
    plain = await render_doc({"clips": _bed(media), "audio": audio})
    ducked = await render_doc({"clips": _bed(media), "audio": {**audio, "ducking": True}})

    def music(result: Any, start: float, duration: float) -> float:
        return band_rms_db(result.video, start, duration, MUSIC_HZ)

    before = music(ducked, 0.3, 1.5) - music(plain, 0.3, 1.5)
    during = music(ducked, 2.3, 1.0) - music(plain, 2.3, 1.0)  # voice: 2..3.5 s
    after = music(ducked, 4.5, 0.4) - music(plain, 4.5, 0.4)  # released (400 ms)
    assert abs(before) <= 1.5
    assert during <= -6
    assert -13 < during  # about the 10 dB asked for, not silence
    assert abs(after) <= 1.5
    stronger = await render_doc(
        {"clips": _bed(media), "audio": {**audio, "ducking": {"amount_db": 20}}}
    )
    assert music(stronger, 2.3, 1.0) - music(plain, 2.3, 1.0) < during - 6


@pytest.mark.parametrize("target", [-23, -16, -14])
@pytest.mark.parametrize("source", ["loud", "quiet"])
async def test_loudness_target(
    render_doc: Render, media: dict[str, Path], tones: dict[str, Path], source: str, target: int
) -> None:
    result = await render_doc(
        {
            "clips": [{"url": media["a"], "trim_end": 3, "volume": 0.2}],
            "audio": {"music_url": tones[source], "loudness_lufs": target},
        }
    )
    integrated, true_peak = loudness(result.video)
    assert abs(integrated - target) <= 1, (integrated, result.notes)
    assert true_peak <= -1, (true_peak, result.notes)
    measured = result.notes["loudness"]
    assert measured["target_lufs"] == target
    assert abs(measured["gain_db"]) > 1  # neither input was at the target already


def scene_cuts(path: Path) -> list[float]:
    """Times of the frames FFmpeg's scene score marks as cuts (select='gt(scene,0.3)')."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-an"]
    args += ["-vf", "select='gt(scene,0.3)',showinfo", "-f", "null", "-"]
    err = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stderr
    return [float(t) for t in re.findall(r"pts_time:([\d.]+)", err)]


async def test_beat_sync_puts_every_scene_cut_on_a_beat(
    make_settings: Any, tmp_path: Path, media: dict[str, Path]
) -> None:
    music = tmp_path / "clicks.wav"  # 120 BPM, beats at 0.23 + k/2 s
    click = "aevalsrc='if(lt(mod(t+0.27,0.5),0.008),sin(2*PI*1000*t),0)':d=6:s=44100"
    ffmpeg("-f", "lavfi", "-i", click, str(music))
    document = {
        "clips": [
            {"url": media["red"].as_uri(), "trim_end": 1.1},
            {"url": media["blue"].as_uri(), "trim_end": 1.0},
            {"url": media["red"].as_uri(), "trim_end": 1.2},
            {"url": media["blue"].as_uri(), "trim_end": 0.7},
        ],
        "audio": {"music_url": music.as_uri(), "beat_sync": True},
        "output": {"resolution": "180p", "fps": 25},
    }
    settings = make_settings(ENABLE_BEAT_DETECTION="true")
    out = tmp_path / "synced.mp4"
    result = await render(
        parse_composition(document), settings, video_out=out, thumbnail_out=tmp_path / "t.jpg"
    )
    sync = result.notes["beat_sync"]
    beats = [0.23 + k / 2 for k in range(12)]
    cuts = scene_cuts(out)
    assert len(cuts) == 3, cuts  # planned at 1.1, 2.1 and 3.3 s: none of them on a beat
    for cut in cuts:
        assert min(abs(cut - b) for b in beats) <= 1 / 25 + 0.001, (cuts, sync)
    assert [c["planned"] for c in sync["cuts"]] == [1.1, 2.1, 3.3]
    assert all(c["snapped"] is not None for c in sync["cuts"])
    assert abs(sync["bpm"] - 120) <= 2
    plain = tmp_path / "plain.mp4"
    del document["audio"]["beat_sync"]  # type: ignore[attr-defined]
    await render(
        parse_composition(document), settings, video_out=plain, thumbnail_out=tmp_path / "p.jpg"
    )
    assert [round(c, 1) for c in scene_cuts(plain)] == [1.1, 2.1, 3.3]  # the test can fail
