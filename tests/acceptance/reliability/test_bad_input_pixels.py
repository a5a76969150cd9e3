"""B5, N4 end to end: a pixel bomb is refused at the probe, naming MAX_INPUT_PIXELS and its size.

A 30000x30000 PNG (900 Mpx; 110 KB on disk: one bit per pixel, one colour, deflated) is over
MAX_INPUT_PIXELS and over FFmpeg's own limit too, so ffprobe reports a 0x0 stream; the refusal
must still say what it is, not guess "an animated WebP?". Posted as a still through the real
app; the render FFmpeg (the fake, which would fail loudly) is never started.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.support.real_app import App

pytestmark = [pytest.mark.B, pytest.mark.ffmpeg]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def flat_png(path: Path, width: int, height: int) -> Path:
    """A valid 1-bit greyscale PNG of one colour, deflated as it is written (no raster in RAM)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none", then black pixels
    packer = zlib.compressobj(9)
    body = []
    for start in range(0, height, 1000):
        body.append(packer.compress(row * min(1000, height - start)))
    body.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(body))
        + _chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize(
    ("size", "cap", "words"),
    [
        ((30000, 30000), None, "30000x30000 is more than 8294400 pixels (MAX_INPUT_PIXELS)"),
        # over FFmpeg's own limit but not the cap: the message must not blame the setting
        ((30000, 30000), str(1 << 31), "30000x30000 is more pixels than FFmpeg can decode"),
        ((4000, 3000), "1000000", "4000x3000 is more than 1000000 pixels (MAX_INPUT_PIXELS)"),
    ],
    ids=["30000x30000", "30000x30000-under-the-cap", "4000x3000"],
)
async def test_a_pixel_bomb_names_max_input_pixels_and_its_size(
    make_app: Callable[..., Awaitable[App]],
    clips: Path,
    size: tuple[int, int],
    cap: str | None,
    words: str,
) -> None:
    bomb = flat_png(clips / f"bomb_{size[0]}x{size[1]}.png", *size)
    assert bomb.stat().st_size < 200_000
    env = {"MAX_INPUT_PIXELS": cap} if cap else {}
    app = await make_app(fake="exit:1", **env)
    status, body = await app.post({"clips": [{"url": bomb.as_uri(), "duration": 1}]})
    assert status == 202, body
    final = await app.finished(body["composition_id"])
    error = final["error"]
    assert (final["status"], error["code"]) == ("failed", "INVALID_CLIP_FORMAT"), final
    assert error["message"] == f"clips[0].url: {words}"
    assert error["details"]["field"] == "clips[0].url"
    assert app.renders() == [], "an FFmpeg render ran for a refused input"
