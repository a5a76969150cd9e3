"""How the kept subtitle parsers read these files, against what a player draws (issue 22).

Not a test (it needs libraries the service does not install). Run it as

    pip install --target /tmp/parsers pysubs2==1.8.1 webvtt-py==0.6.0 srt==3.5.3
    PYTHONPATH=/tmp/parsers:. .venv/bin/python tests/support/subtitles/compare_parsers.py

For each UTF-8 file it prints whether each library's cue texts (whitespace folded) equal ours,
which were checked by hand and are pinned by tests/unit/work/subtitles/. The result on
2026-12-07: pysubs2 5 of 19, webvtt-py 12 of 19, srt 0 of 5 SRT files; none decodes the
legacy-encoded files.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path

import pysubs2  # type: ignore[import-not-found, unused-ignore]
import srt  # type: ignore[import-not-found, unused-ignore]
import webvtt  # type: ignore[import-not-found, unused-ignore]

from vidsvc.work.compositions.subtitles import read

ROOT = Path(__file__).parent
Reader = Callable[[str, str], list[str]]


def folded(texts: Iterable[str]) -> list[str]:
    return [" ".join(t.split()) for t in texts if t.strip()]


def with_pysubs2(text: str, fmt: str) -> list[str]:
    subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    return [e.plaintext for e in subs if e.end > e.start]


def with_webvtt(text: str, fmt: str) -> list[str]:
    return [c.text for c in webvtt.from_buffer(io.StringIO(text), format=fmt)]


def with_srt(text: str, fmt: str) -> list[str]:
    return [s.content for s in srt.parse(text)]


def main() -> None:
    score = {"pysubs2": 0, "webvtt-py": 0, "srt": 0}
    utf8 = srt_files = 0
    for path in sorted(p for p in ROOT.glob("*/*") if p.suffix in (".srt", ".vtt")):
        data = path.read_bytes()
        ours = read(data)
        name = str(path.relative_to(ROOT))
        try:
            text = data.decode("utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError:
            print(f"{name:40} {ours.encoding}: none of the three detects an encoding")
            continue
        utf8 += 1
        readers: list[tuple[str, Reader]] = [("pysubs2", with_pysubs2), ("webvtt-py", with_webvtt)]
        if ours.format == "srt":
            srt_files += 1
            readers.append(("srt", with_srt))
        row = []
        for lib, reader in readers:
            try:
                got = folded(reader(text, ours.format))
                ok = got == folded(c.text for c in ours.cues)
                row.append(f"{lib}: " + ("ok" if ok else f"draws {got[:2]!r}"[:80]))
            except Exception as exc:  # a library refusing the file is a result too
                ok = False
                row.append(f"{lib}: raises {type(exc).__name__}")
            score[lib] += ok
        print(f"{name:40}", " | ".join(row))
    print(f"read as a player reads them, of {utf8} UTF-8 files ({srt_files} SRT): {score}")


if __name__ == "__main__":
    main()
