"""Text pixels in rendered frames: where the text is and how much of it there is, and OCR.

Text tests draw light text on a flat mid-grey or dark background; a pixel belongs to the text
when its brightness differs from the background's by more than THRESHOLD.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.media import Frame

THRESHOLD = 60


@dataclass(frozen=True)
class Ink:
    box: tuple[int, int, int, int] | None  #: x0, y0, x1, y1 (inclusive), None: no text
    count: int  #: text pixels

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0] + 1 if self.box else 0

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1] + 1 if self.box else 0

    def like(self, other: Ink, *, size_px: int = 4, ink: float = 0.3) -> bool:
        """Same text drawn by two renderers: box sizes within a few pixels, ink within 30%
        (libass and drawtext hint small glyphs differently: up to 26% measured at 14 px, on
        backslashes)."""
        if self.box is None or other.box is None:
            return self.box == other.box
        w_tol = size_px + 0.04 * other.width
        return (
            abs(self.width - other.width) <= w_tol
            and abs(self.height - other.height) <= size_px
            and abs(self.count - other.count) <= ink * other.count
        )


def ink(frame: Frame, region: tuple[int, int, int, int] | None = None) -> Ink:
    """Text pixels of a frame (optionally inside x0, y0, x1, y1), against its corner's colour."""
    x0, y0, x1, y1 = region or (0, 0, frame.width, frame.height)
    bg = sum(frame.pixel(x0, y0)) / 3
    xs: list[int] = []
    ys: list[int] = []
    for y in range(y0, y1):
        for x in range(x0, x1):
            if abs(sum(frame.pixel(x, y)) / 3 - bg) > THRESHOLD:
                xs.append(x)
                ys.append(y)
    if not xs:
        return Ink(box=None, count=0)
    return Ink(box=(min(xs), min(ys), max(xs), max(ys)), count=len(xs))


def need_tesseract(*langs: str) -> None:
    """Skip without tesseract or a language pack, except under CI=true (then it is a failure)."""
    missing = []
    if shutil.which("tesseract") is None:
        missing.append("tesseract-ocr")
    else:
        have = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, check=False
        ).stdout.split()
        missing += [
            f"tesseract-ocr-{lang.replace('_', '-')}" for lang in langs if lang not in have
        ]
    if missing:
        message = f"needs {' '.join(missing)} (make os-deps installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def ocr(image: Path, lang: str, *, psm: int = 7) -> str:
    """Tesseract's reading of an image (psm 7: one line; 6: a block)."""
    out = subprocess.run(
        ["tesseract", str(image), "stdout", "-l", lang, "--psm", str(psm)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    return out.stdout.strip()


def unescape_ass(body: str) -> str:
    """What libass draws for an escaped text: the inverse of the four escapes (or an error)."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        assert ch not in "{}\n\r", (body, i)  # no override block can open or close
        if ch == "\\":
            nxt = body[i + 1]  # a backslash is never last
            out.append({"\u2060": "\\", "N": "\n", "{": "{", "}": "}"}[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)
