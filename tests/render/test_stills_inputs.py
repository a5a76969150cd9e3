"""Stills (JPEG/PNG/WebP clips) and the containers people have (MPEG-PS, ASF/WMV, AIFF, AC-3)."""

from __future__ import annotations

import base64
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.media import ffmpeg, frame_at, make_video, probe, rms_db, stream
from tests.support.render_doc import Render
from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, InvalidTimeline
from vidsvc.graph import Encoding, Source, build, compile_command, plan
from vidsvc.graph.timeline import Limits
from vidsvc.media.probe import probe as vidsvc_probe
from vidsvc.schema import parse_composition

pytestmark = pytest.mark.ffmpeg


def image(path: Path, colour: str, size: str = "160x90") -> Path:
    ffmpeg("-f", "lavfi", "-i", f"color=c={colour}:s={size}", "-frames:v", "1", str(path))
    return path


@pytest.fixture(scope="module")
def stills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("stills")
    return {
        "png": image(d / "red.png", "red"),
        "jpg": image(d / "green.jpg", "green"),
        "webp": image(d / "blue.webp", "blue"),
        "disguised": image(d / "photo.png", "red").rename(d / "photo.mp4"),  # probe decides
        # a detailed JPEG: by its name image2 outscores jpeg_pipe, so only the staged name
        # (the symlink's, without an image extension) gets it to the pipe demuxer
        "photo": _detailed(d / "photo.jpg"),
    }


def _detailed(path: Path) -> Path:
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180", "-frames:v", "1", str(path))
    return path


@pytest.mark.parametrize("kind", ["png", "jpg", "webp", "disguised", "photo"])
async def test_a_still_lasts_its_duration_without_sound_of_its_own(
    render_doc: Render, stills: dict[str, Path], kind: str
) -> None:
    result = await render_doc({"clips": [{"url": stills[kind], "duration": 1.5}]})
    assert result.duration_ms == 1500
    info = probe(result.video)
    assert int(stream(info, "video")["nb_frames"]) == 15
    assert rms_db(result.video, 0.2, 1.0) == -float("inf")  # silence, but an audio track
    assert result.inputs[next(iter(result.inputs))].still


async def test_a_still_takes_start_and_end_time_and_sits_between_videos(
    render_doc: Render, stills: dict[str, Path], media: dict[str, Path]
) -> None:
    result = await render_doc(
        {
            "clips": [
                {"url": media["blue"], "trim_end": 1},
                {"url": stills["png"], "start_time": 1, "end_time": 2},
                {"url": media["blue"], "trim_end": 1, "transition_in": "crossfade",
                 "transition_duration": 0.5},
            ]
        }
    )  # fmt: skip
    assert result.duration_ms == 2500
    assert frame_at(result.video, 1.2).mean()[0] > 150  # the red still
    assert frame_at(result.video, 2.3).mean()[2] > 150  # blue again


def _exif_rotated(path: Path) -> Path:
    """A 64x32 JPEG, blue on its left quarter and red elsewhere, with an EXIF APP1 segment
    saying Orientation 6 (rotate 90° clockwise to display): as phone cameras write them."""
    plain = path.with_name("plain-" + path.name)
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x32,drawbox=w=16:h=32:c=blue:t=fill",
           "-frames:v", "1", str(plain))  # fmt: skip
    tiff = b"II*\x00" + struct.pack("<IHHHII", 8, 1, 0x0112, 3, 1, 6) + struct.pack("<I", 0)
    app1 = b"Exif\x00\x00" + tiff
    data = plain.read_bytes()
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:])
    return path


async def test_a_still_is_drawn_the_way_its_exif_orientation_says(
    render_doc: Render, tmp_path: Path
) -> None:
    """FFmpeg turns the EXIF orientation into a display matrix and rotates the frame: the
    blue left edge of the stored picture is the top of the drawn one, which fills a portrait
    frame in `cover` (the picture is 32x64 once turned)."""
    still = _exif_rotated(tmp_path / "phone.jpg")
    result = await render_doc(
        {
            "clips": [{"url": still, "duration": 1, "fit": "cover"}],
            "output": {"resolution": "180p", "aspect_ratio": "9:16", "fps": 10},
        }
    )
    frame = frame_at(result.video, 0.5)
    assert (frame.width, frame.height) == (180, 320)
    top, bottom = frame.mean((60, 10, 120, 40)), frame.mean((60, 280, 120, 310))
    assert top[2] > 200 and top[0] < 60, top  # blue
    assert bottom[0] > 200 and bottom[2] < 60, bottom  # red


#: A 64x32 red JPEG in Adobe CMYK (4 components, inverted, as Photoshop and Pillow write it;
#: made with Pillow, which vidsvc does not depend on, so its 447 bytes are here).
CMYK_JPEG = base64.b64decode(
    "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcG"
    "BggLCAkKCgoKCgYICwwLCgwJCgoK/8AAFAgAIABABEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAAB"
    "AgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNi"
    "coIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SV"
    "lpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4E"
    "QwBNAFkASwAAPwD9/K/n/r+f+v38oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
    "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooor//Z"
)


async def test_a_cmyk_jpeg_still_keeps_its_colours(render_doc: Render, tmp_path: Path) -> None:
    still = tmp_path / "print.jpg"
    still.write_bytes(CMYK_JPEG)
    assert stream(probe(still), "video")["pix_fmt"] == "gbrap"  # FFmpeg's CMYK path
    result = await render_doc({"clips": [{"url": still, "duration": 1, "fit": "cover"}]})
    red = frame_at(result.video, 0.5).mean((100, 40, 220, 140))
    assert red[0] > 230 and red[1] < 30 and red[2] < 30, red


async def test_a_still_without_a_length_is_an_invalid_timeline_naming_the_clip(
    render_doc: Render, stills: dict[str, Path], media: dict[str, Path]
) -> None:
    with pytest.raises(InvalidTimeline) as err:
        await render_doc({"clips": [{"url": media["blue"]}, {"url": stills["jpg"]}]})
    assert err.value.details["field"] == "clips[1].duration"


async def test_a_still_named_with_a_pattern_is_read_as_that_one_file(
    tmp_path: Path, settings: Settings
) -> None:
    """image2 would read `shot%d.png` as the sequence shot0.png, shot1.png…, and `*` as a glob.
    Stills are staged under service-chosen names without an image extension and opened with the
    probed pipe demuxer (`-f png_pipe`), which reads the literal name; image2 is never allowed."""
    literal = tmp_path / "shot%d*.png"  # written by Python: ffmpeg's muxer would expand it too
    literal.write_bytes(image(tmp_path / "red.png", "red").read_bytes())
    for decoy in ("shot1*.png", "shot1.png", "shot0.png"):  # what an expansion would find
        (tmp_path / decoy).write_bytes(image(tmp_path / "blue.png", "blue").read_bytes())
    with pytest.raises(InvalidClipFormat) as err:  # refused, never expanded
        await vidsvc_probe(literal, settings, field="clips[0].url")
    assert "image2 is not accepted" in str(err.value)
    staged = tmp_path / "in0.bin"
    staged.write_bytes(literal.read_bytes())
    info = await vidsvc_probe(staged, settings, field="clips[0].url")
    assert info.still and info.format_name == "png_pipe"
    comp = parse_composition({"clips": [{"url": "file:///x", "duration": 0.5}],
                              "output": {"resolution": "180p", "fps": 10}})  # fmt: skip
    source = Source(
        name=literal.name, duration_ms=0, has_video=True, has_audio=False, still=True,
        demuxer=info.format_name,
    )  # fmt: skip
    timeline = plan(comp, {}, Limits())
    graph = build(timeline, comp, {"file:///x": source}, {})
    argv = compile_command(graph, Encoding(duration_ms=500)).argv
    subprocess.run(["ffmpeg", *argv], cwd=tmp_path, check=True, timeout=60, capture_output=True)
    frame = frame_at(tmp_path / "out.mp4", 0.2)
    r, _, b = frame.mean()
    assert r > 200 and b < 40  # the literal file's red, not the blue a pattern would pick


def test_image2_would_have_expanded_the_pattern(tmp_path: Path) -> None:
    """The pitfall is real on this FFmpeg: the test above would fail with image2."""
    (tmp_path / "p%d.png").write_bytes(image(tmp_path / "red.png", "red").read_bytes())
    image(tmp_path / "p1.png", "blue")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p%d.png", "p1.png", "red.png"]
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "image2", "-i", str(tmp_path / "p%d.png"),
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert out[2] > 200 and out[0] < 40  # blue: p1.png, not the file named p%d.png


@pytest.fixture(scope="module")
def containers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("containers")
    tone = ["-f", "lavfi", "-i", "sine=f=440:d=1.5"]
    pic = ["-f", "lavfi", "-i", "testsrc2=s=160x90:r=10:d=1.5"]
    mpg, wmv = d / "clip.mpg", d / "clip.wmv"
    ffmpeg(*pic, *tone, "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob", str(mpg))
    ffmpeg(*pic, *tone, "-c:v", "wmv2", "-c:a", "wmav2", str(wmv))
    aiff, ac3, eac3 = d / "music.aiff", d / "music.ac3", d / "music.eac3"
    for path in (aiff, ac3, eac3):
        ffmpeg(*tone, str(path))
    return {"mpg": mpg, "wmv": wmv, "aiff": aiff, "ac3": ac3, "eac3": eac3}


@pytest.mark.parametrize("kind", ["mpg", "wmv"])
async def test_mpeg_ps_and_wmv_clips_render_with_their_sound(
    render_doc: Render, containers: dict[str, Path], kind: str
) -> None:
    result = await render_doc({"clips": [{"url": containers[kind]}]})
    assert abs(result.duration_ms - 1500) <= 100
    assert rms_db(result.video, 0.3, 0.8) > -35


@pytest.mark.parametrize("kind", ["aiff", "ac3", "eac3"])
async def test_aiff_and_ac3_music_renders_with_its_sound(
    render_doc: Render, containers: dict[str, Path], media: dict[str, Path], kind: str
) -> None:
    result = await render_doc(
        {"clips": [{"url": media["b"], "trim_end": 1}], "audio": {"music_url": containers[kind]}}
    )
    assert rms_db(result.video, 0.2, 0.6) > -35  # clip "b" is silent: this is the music


async def test_other_formats_stay_refused(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    gif = tmp_path / "anim.gif"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:r=5:d=1", str(gif))
    with pytest.raises(InvalidClipFormat) as err:
        await vidsvc_probe(gif, make_settings(), field="clips[0].url")
    assert "gif" in str(err.value)


async def test_an_image_bomb_is_refused_before_decoding(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    big = image(tmp_path / "big.png", "red", size="4000x3000")
    with pytest.raises(InvalidClipFormat) as err:
        await vidsvc_probe(big, make_settings(MAX_INPUT_PIXELS="1000000"), field="clips[0].url")
    assert "pixels" in str(err.value)
    make_video(tmp_path / "unused.mp4", seconds=0.2, tone=None)  # the ordinary path still works


async def test_animated_images_are_refused_and_deep_pngs_are_stills(
    tmp_path: Path, settings: Settings, render_doc: Render
) -> None:
    """N4: an animated PNG (apng) is not on the whitelist; an animated WebP, whose frames FFmpeg
    5.1 cannot decode, is refused at probe; a 16-bit PNG renders."""
    apng, webp = tmp_path / "anim.apng", tmp_path / "anim.webp"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:r=5:d=1", "-plays", "0", "-f", "apng", str(apng))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:r=5:d=1", "-c:v", "libwebp_anim", str(webp))
    for path in (apng, webp):
        staged = path.with_suffix(".bin")  # as staging names an image
        staged.write_bytes(path.read_bytes())
        with pytest.raises(InvalidClipFormat) as err:
            await vidsvc_probe(staged, settings, field="clips[0].url")
        assert err.value.details["field"] == "clips[0].url"
    deep = tmp_path / "deep.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", "-pix_fmt", "rgb48be",
           str(deep))  # fmt: skip
    result = await render_doc({"clips": [{"url": deep, "duration": 0.5}]})
    assert frame_at(result.video, 0.2).mean((140, 40, 180, 140))[0] > 200  # inside the bars
