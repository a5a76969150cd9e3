"""How long the subtitle parser takes on 5 MB files, real-shaped and degenerate (issue 22).

Not a test (tests never assert wall-clock times). Run it as

    .venv/bin/python tests/support/subtitles/measure_parse.py

It prints the median of three parses of each file, wall-clock and CPU time (on a machine
shared with other work, the CPU time is the parse's own cost); docs/composition.md ("Captions
files") quotes the numbers.
"""

from __future__ import annotations

import statistics
import time

from vidsvc.errors import InvalidClipFormat
from vidsvc.work.compositions.subtitles import read

CAP = 5 * 1024 * 1024


def _t(i: int, sep: str, plus: int = 0) -> str:
    return f"00:{i // 6000 % 60:02d}:{i // 100 % 60:02d}{sep}{i % 100 * 10 + plus:03d}"


def _srt(text: str, encoding: str = "utf-8") -> bytes:
    cues = (f"{i}\n{_t(i, ',')} --> {_t(i, ',', 5)}\n{text}\n\n" for i in range(1, 5000))
    return "".join(cues).encode(encoding)[:CAP]


def _vtt(text: str, settings: str = "") -> bytes:
    cues = (f"{_t(i, '.')} --> {_t(i, '.', 5)}{settings}\n{text}\n\n" for i in range(1, 5000))
    return ("WEBVTT\n\n" + "".join(cues)).encode()[:CAP]


CASES: dict[str, tuple[bytes, bool]] = {
    "SRT, 5000 cues with tags and entities": (_srt("<i>x</i> &amp; {\\an8}y " * 47), False),
    "WebVTT, voices, classes, entities, timestamps": (
        _vtt("<v Bob><c.a>wo</c>&lt;" + "<00:00:00.001><c> rd</c> &lt; " * 28 + "</v>"),
        False,
    ),
    "WebVTT YouTube-style, highlight (words)": (
        _vtt(" \nhello<00:00:00.001><c> wor&amp;ld</c>" + "<c> pad</c>" * 90, " align:start"),
        True,
    ),
    "SRT cp1251": (_srt("Привет, как дела? Всё хорошо. " * 32, "cp1251"), False),
    "SRT GB18030": (_srt("今天天气很好，我们去公园散步吧。" * 31, "gb18030"), False),
    "SRT Big5": (_srt("今天天氣很好，我們去公園散步吧。" * 31, "big5"), False),
    "one cue, then 1.7 M stray blocks": (
        (b"00:00:00,000 --> 00:00:01,000\nok\n\n" + b"x\n\n" * (CAP // 3))[:CAP],
        False,
    ),
    "one cue of 1.7 M lines": ((b"00:00:00,000 --> 00:00:01,000\n" + b"x\n" * CAP)[:CAP], False),
    "WebVTT blocks of spaces": (
        (b"WEBVTT\n\n00:00.000 --> 00:01.000\nok\n\n" + b" \n\n" * CAP)[:CAP],
        False,
    ),
    "one unterminated '<'": ((b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"<" * CAP)[:CAP], False),
    "175 000 timing lines in one block": (
        b"00:00:00,000 --> 00:00:01,000\n" * (CAP // 30),
        False,
    ),
}


def main() -> None:
    for name, (data, words) in CASES.items():
        runs, cpu = [], []
        outcome = ""
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                outcome = f"{len(read(data, words=words).cues)} cues"
            except InvalidClipFormat as exc:
                outcome = f"refused: {exc.message[13:60]}"
            runs.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        wall, busy = statistics.median(runs), statistics.median(cpu)
        print(f"{name:46} {len(data) / 1e6:.2f} MB  {wall:.3f} s ({busy:.3f} s CPU)  {outcome}")


if __name__ == "__main__":
    main()
