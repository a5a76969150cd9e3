"""clip_ops on real FFmpeg: each operation's output checked with ffprobe, one run per clip."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import probe, stream
from vidsvc import cliptask, graph
from vidsvc.config import Settings
from vidsvc.graph import clip_ops
from vidsvc.media.ffmpeg import run_ffmpeg
from vidsvc.media.probe import probe as probe_input

pytestmark = pytest.mark.ffmpeg


def task(*operations: str, **kw: Any) -> cliptask.ClipTask:
    return cliptask.ClipTask(processing_id="p1", clips=("x",), operations=operations, **kw)


async def run(
    t: cliptask.ClipTask, clip: Path, settings: Settings, work: Path
) -> tuple[dict[str, Path], tuple[str, ...]]:
    work.mkdir(parents=True, exist_ok=True)
    (work / "in0.mp4").symlink_to(clip)
    info = await probe_input(work / "in0.mp4", settings, field="clip")
    source = graph.Source(
        name="in0.mp4",
        duration_ms=info.duration_ms,
        has_video=True,
        has_audio=info.has_audio,
    )
    enc = graph.Encoding(duration_ms=info.duration_ms, preset="ultrafast")
    command = clip_ops.compile_clip(clip_ops.build_clip(t, source), enc)
    await run_ffmpeg(command.argv, settings=settings, cwd=work)
    return {name: work / file for name, file in command.files.items()}, command.argv


def loudness(path: Path) -> float:
    """Integrated loudness (LUFS) by FFmpeg's ebur128 meter."""
    out = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = out[out.rindex("Integrated loudness:") :]
    return float(summary.split("I:")[1].split("LUFS")[0])


def assert_profile(path: Path) -> None:
    info = probe(path)
    video, audio = stream(info, "video"), stream(info, "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert video["pix_fmt"] == "yuv420p"
    assert video["avg_frame_rate"] == "30/1"
    assert audio["codec_name"] == "aac"
    assert (int(audio["sample_rate"]), audio["channels"]) == (48000, 2)


async def test_normalize_color_and_thumbnail_in_one_pass(
    media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    t = task("normalize", "color_correct", "thumbnail", contact_sheet=True)
    files, argv = await run(t, media["portrait"], settings, tmp_path / "w")
    assert argv.count("-i") == 1  # one input, one run, three outputs
    assert set(files) == {"normalized", "thumbnail", "contact_sheet"}
    assert_profile(files["normalized"])
    assert abs(loudness(files["normalized"]) - -16.0) < 2.5
    thumb = stream(probe(files["thumbnail"]), "video")
    assert (thumb["codec_name"], thumb["width"], thumb["height"]) == ("mjpeg", 640, 360)
    sheet = stream(probe(files["contact_sheet"]), "video")
    cell_w, cell_h = clip_ops.SHEET_CELL_WIDTH, clip_ops.SHEET_CELL_WIDTH * 9 // 16
    assert (sheet["width"], sheet["height"]) == (3 * cell_w, 3 * cell_h)


async def test_silent_clip_gets_a_silent_stereo_track(
    media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    files, _ = await run(task("normalize"), media["b"], settings, tmp_path / "w")
    assert_profile(files["normalized"])
    duration = float(probe(files["normalized"])["format"]["duration"])
    assert abs(duration - 3.0) < 0.1


async def test_color_correct_alone_and_thumbnail_alone(
    media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    files, argv = await run(task("color_correct"), media["a"], settings, tmp_path / "c")
    assert set(files) == {"color_corrected"}
    assert "loudnorm" not in " ".join(argv)
    assert_profile(files["color_corrected"])
    files, argv = await run(task("thumbnail"), media["a"], settings, tmp_path / "t")
    assert set(files) == {"thumbnail"}
    assert "libx264" not in argv
    assert stream(probe(files["thumbnail"]), "video")["width"] == 640
