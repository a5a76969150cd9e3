"""Render-ready clips (issue 16) on real files: what `normalize` writes is spliceable, and the
probe tells such a file from a plain encode of the same source, whoever made either."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.jobs import execute_composition
from tests.support.media import ffmpeg, make_video, probe, stream
from tests.support.normalize import normalize
from vidsvc import cliptask
from vidsvc.config import Settings
from vidsvc.jobs import JobState
from vidsvc.media.probe import probe as probe_input
from vidsvc.media.spliceable import encoder_agrees, grid, inspect
from vidsvc.store import Stores
from vidsvc.store.disk import LocalBlobStore
from vidsvc.store.inprocess import MemoryBacklog, MemoryPubSub
from vidsvc.store.memory import MemoryJobStore

pytestmark = pytest.mark.ffmpeg
GOP = cliptask.RENDER_READY.gop_frames
#: 4.5 s at 25 fps: normalized to 30 fps that is 135 frames, IDRs at 0, 60 and 120.
SECONDS = 4.5


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ready")
    # a scene cut at 2.2 s (the colours flip): x264 would put an IDR there on its own
    return make_video(
        d / "src.mp4",
        rate=25,
        seconds=SECONDS,
        extra=("-vf", "negate=enable='gte(t,2.2)'"),
    )


def keyframes(path: Path) -> list[int]:
    """Frame numbers (display order) of the keyframes, from the decoder itself."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "frame=key_frame,pict_type", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [i for i, line in enumerate(out.split()) if line.startswith("1")]


def nal_types(path: Path) -> list[int]:
    """Every slice NAL's nal_unit_type (5: IDR, 1: non-IDR), from the trace_headers BSF."""
    done = subprocess.run(
        ["ffmpeg", "-v", "trace", "-hide_banner", "-i", str(path), "-map", "0:v", "-c", "copy",
         "-bsf:v", "trace_headers", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.findall(r"nal_unit_type\s+\S+\s*=\s*(\d+)", done.stderr)
    return [int(t) for t in found if int(t) in (1, 5)]


async def test_normalized_clip_is_render_ready(
    source: Path, settings: Settings, tmp_path: Path
) -> None:
    out = await normalize(source, settings, tmp_path / "w")
    video, audio = stream(probe(out), "video"), stream(probe(out), "audio")
    # about SECONDS at 30 fps (normalize keeps the probed duration, AAC priming included)
    frames = int(video["nb_frames"])
    assert abs(frames - SECONDS * 30) <= 2
    # the IDR grid: exactly every GOP frames, and not at the scene cut (frame 66)
    assert keyframes(out) == list(range(0, frames, GOP))
    # closed GOP: every keyframe is an IDR, and there is one IDR per keyframe
    slices = nal_types(out)
    assert len(slices) == frames and slices.count(5) == len(range(0, frames, GOP))
    assert (video["color_primaries"], video["color_transfer"], video["color_space"]) == (
        "bt709",
        "bt709",
        "bt709",
    )
    assert video["color_range"] == "tv" and video["level"] == 31 and video["profile"] == "High"
    assert video["time_base"] == "1/15360"
    assert (audio["codec_name"], int(audio["sample_rate"])) == ("aac", 48000)

    info = await probe_input(out, settings, field="clip")
    assert info.render_ready and info.keyframe_interval == GOP
    assert info.summary()["render_ready"] is True
    ready = await inspect(out, settings)
    assert ready is not None
    fingerprint = ready.fingerprint()
    assert fingerprint["frames"] == frames and fingerprint["keyframe_interval"] == GOP
    assert fingerprint["crf"] == 23.0
    assert "stitchable=1" in fingerprint["x264_options"]
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint["extradata_sha256"])


async def test_a_plain_encode_of_the_same_source_is_not(
    source: Path, settings: Settings, tmp_path: Path
) -> None:
    fit = "scale=1280:720,fps=30,format=yuv420p"
    plain = tmp_path / "plain.mp4"
    ffmpeg("-i", str(source), "-vf", fit, "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", "-ar", "48000", str(plain))  # fmt: skip
    info = await probe_input(plain, settings, field="clip")
    assert (info.width, info.height, info.fps) == (1280, 720, 30)
    assert not info.render_ready and info.keyframe_interval is None
    # every parameter right but x264's own keyframe placement (scene cut at frame 66): still not
    tagged = tmp_path / "tagged.mp4"
    ffmpeg("-i", str(source), "-vf", fit, "-c:v", "libx264", "-preset", "ultrafast",
           "-profile:v", "high", "-level:v", "3.1", "-color_primaries", "bt709",
           "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
           "-video_track_timescale", "15360", "-c:a", "aac", "-ar", "48000",
           str(tagged))  # fmt: skip
    tagged_video = stream(probe(tagged), "video")
    assert tagged_video["color_primaries"] == "bt709" and tagged_video["level"] == 31
    assert keyframes(tagged) != list(range(0, round(SECONDS * 30), GOP))
    assert not (await probe_input(tagged, settings, field="clip")).render_ready


async def test_clips_from_different_sources_share_their_parameter_sets(
    source: Path, settings: Settings, tmp_path: Path
) -> None:
    """What lets a planner splice two normalized clips: the same avcC bytes (SPS/PPS), though
    the sources differ in size, rate and audio, while another CRF is told apart."""
    other = make_video(tmp_path / "other.mp4", size="200x300", rate=30, seconds=2.5, tone=None)
    a = await inspect(await normalize(source, settings, tmp_path / "a"), settings)
    b = await inspect(await normalize(other, settings, tmp_path / "b"), settings)
    c = await inspect(await normalize(other, settings, tmp_path / "c", crf=30), settings)
    assert a is not None and b is not None and c is not None
    assert a.extradata_sha256 == b.extradata_sha256
    assert a.frames != b.frames
    assert c.crf == 30.0 and c.extradata_sha256 == a.extradata_sha256  # stitchable=1


async def test_the_composition_reports_render_ready_inputs(
    source: Path, settings: Settings, tmp_path: Path
) -> None:
    """Nothing uses it yet but the metadata's `inputs` summary, where the planner will look."""
    ready = await normalize(source, settings, tmp_path / "w")
    doc = {
        "clips": [
            {"url": ready.as_uri(), "trim_end": 1.0},
            {"url": source.as_uri(), "trim_end": 1.0},
        ],
        "output": {"resolution": "180p", "fps": 10},
    }
    stores = Stores(jobs=MemoryJobStore(), blobs=LocalBlobStore(tmp_path / "blobs"),
                    pubsub=MemoryPubSub(), backlog=MemoryBacklog())  # fmt: skip
    final = await execute_composition(doc, settings, stores)
    assert final is not None and final.state is JobState.COMPLETED, final
    inputs = final.metadata["inputs"]
    assert inputs[ready.as_uri()]["render_ready"] is True
    assert inputs[ready.as_uri()]["keyframe_interval"] == GOP
    assert inputs[source.as_uri()]["render_ready"] is False
    assert final.metadata["output"]["render_ready"] is False  # 180p, untagged


def test_grid() -> None:
    k, n = True, False
    assert grid([k, n, n, k, n, n, k]) == 3
    assert grid([k, n, n, k, n]) == 3
    assert grid([k, n, n]) == 3  # shorter than one interval
    assert grid([k, n, k, n, n, k]) is None  # uneven
    assert grid([n, k, n]) is None
    assert grid([]) is None


def test_encoder_agrees() -> None:
    ours = "cabac=1 stitchable=1 open_gop=0 keyint=60 keyint_min=31 scenecut=0 crf=21.0"
    assert encoder_agrees(ours, 60)
    assert not encoder_agrees(ours, 30)
    assert not encoder_agrees(ours.replace("open_gop=0", "open_gop=1"), 60)
    assert not encoder_agrees(ours.replace("scenecut=0", "scenecut=40"), 60)
    assert encoder_agrees(None, 60)  # another encoder: the grid decides
