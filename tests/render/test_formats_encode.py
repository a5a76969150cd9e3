"""Each output format's options through the real FFmpeg, checked on the file they make.

A tiny lavfi source (pictures and a tone) stands in for the render's graph; what is checked is
what a client gets: codecs, size, rate, no sound where there should be none, the loop.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from tests.support.media import probe, stream, webp_chunks
from vidsvc.graph import formats
from vidsvc.graph.compile import global_args

pytestmark = pytest.mark.ffmpeg

SECONDS = 2
SOURCE = [
    "-f", "lavfi", "-i", f"testsrc2=s=320x180:r=25:d={SECONDS}",
    "-f", "lavfi", "-i", f"sine=f=440:d={SECONDS}:sample_rate=48000",
]  # fmt: skip
#: An animated output's size here: small, and not the source's, so a wrong size shows.
WIDTH = 160


def encode(fmt: formats.Format, work: Path, *, loop: int = 0) -> Path:
    """The source through `fmt`'s main-render options (and, for a GIF, its two passes)."""
    if fmt.animated:  # what the graph does for an animated output: its rate and width
        maps = ["-map", "0:v", "-vf", f"fps={formats.ANIMATED_FPS},scale={WIDTH}:-2"]
    else:
        maps = ["-map", "0:v", "-map", "1:a"]
    args = formats.output_args(fmt, crf=30, preset="ultrafast", audio_bitrate="128k", loop=loop)
    ffmpeg(work, *SOURCE, *maps, *args, "-t", str(SECONDS), fmt.main_output)
    if fmt.two_pass:
        ffmpeg(work, *formats.palette_argv(head=global_args()))
        ffmpeg(work, *formats.gif_argv(head=global_args(), loop=loop))
    return work / fmt.filename


def ffmpeg(work: Path, *argv: str) -> None:
    head = [] if argv[0] == "-hide_banner" else global_args()
    subprocess.run(["ffmpeg", *head, *argv], cwd=work, check=True, timeout=60)


def codecs(path: Path) -> dict[str, str]:
    return {s["codec_type"]: s["codec_name"] for s in probe(path)["streams"]}


def test_mp4_is_h264_and_aac_with_moov_first(tmp_path: Path) -> None:
    out = encode(formats.MP4, tmp_path)
    assert codecs(out) == {"video": "h264", "audio": "aac"}
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")  # +faststart


def test_webm_is_vp9_and_opus(tmp_path: Path) -> None:
    out = encode(formats.WEBM, tmp_path)
    info = probe(out)
    assert codecs(out) == {"video": "vp9", "audio": "opus"}
    assert info["format"]["format_name"] == "matroska,webm"
    assert stream(info, "video")["width"] == 320
    assert abs(float(info["format"]["duration"]) - SECONDS) < 0.1
    data = out.read_bytes()
    assert 0 < cues_at(data) < data.find(CLUSTER)  # seekable before the file's end is fetched


#: Matroska element IDs, and the SeekHead's SeekID element that names another element's ID.
CUES, CLUSTER, SEEK_ID = b"\x1c\x53\xbb\x6b", b"\x1f\x43\xb6\x75", b"\x53\xab\x84"


def cues_at(data: bytes) -> int:
    """Where the Cues element starts (not the SeekHead's mention of its ID)."""
    at = data.find(CUES)
    while at != -1 and data[at - 3 : at] == SEEK_ID:
        at = data.find(CUES, at + 1)
    return at


@pytest.mark.parametrize("loop", [0, 3])
def test_gif_is_the_asked_width_at_12_fps_without_sound_and_loops(
    tmp_path: Path, loop: int
) -> None:
    out = encode(formats.GIF, tmp_path, loop=loop)
    info = probe(out)
    video = stream(info, "video")
    assert codecs(out) == {"video": "gif"}
    assert (video["width"], video["height"]) == (WIDTH, 90)
    assert int(frame_count(out)) == SECONDS * formats.ANIMATED_FPS
    data = out.read_bytes()
    # the NETSCAPE2.0 application extension: sub-block 1, then the repeat count (LE)
    at = data.find(b"NETSCAPE2.0")
    assert at != -1
    assert data[at + 11 : at + 13] == b"\x03\x01"
    assert struct.unpack("<H", data[at + 13 : at + 15])[0] == loop


def frame_count(path: Path) -> str:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return out.stdout.strip()


def test_webp_is_animated_without_sound(tmp_path: Path) -> None:
    out = encode(formats.WEBP, tmp_path, loop=2)
    found = webp_chunks(out.read_bytes())
    names = [fourcc for fourcc, _ in found]
    assert names[0] == b"VP8X" and found[0][1][0] & 0x02  # the animation flag
    (anim,) = [payload for fourcc, payload in found if fourcc == b"ANIM"]
    assert struct.unpack("<H", anim[4:6])[0] == 3  # plays: output.loop's 2 repeats + 1
    frames = [payload for fourcc, payload in found if fourcc == b"ANMF"]
    assert len(frames) == SECONDS * formats.ANIMATED_FPS
    width = 1 + int.from_bytes(frames[0][6:9], "little")  # ANMF: x, y, width-1, height-1
    assert width == WIDTH
    # nothing but pictures: RIFF WebP has no place for sound, and no other chunk came along
    assert set(names) <= {b"VP8X", b"ANIM", b"ANMF"}
