"""A narration's audible end: how long its audio lasts, and where its last audible sound ends.

One FFmpeg pass decodes the first audio stream alone (video, subtitles and data are discarded
by the demuxer, never decoded) through `apad` and `silencedetect` into the null muxer, with
the probe's protocol and demuxer whitelists. The pad is PAD_MS of digital silence, so every
stream ends in a silence silencedetect reports: the last `silence_start` is the audible end
whether the file ends in a long tail, a short one or in sound. The duration is `-progress`'s
last out_time (exact to the sample) less the pad. Leading silence is kept: times run from the
file's start.

Chosen by measurement (FFmpeg 5.1, 2 cores; narrations of 3 s to 637 s as mp3, wav, m4a, and
inside a 720p mp4): about 60 ms of FFmpeg start-up, then 0.5 ms per second of audio (0.75 in the
mp4, whose video is demuxed, never decoded), barely more than a bare decode (96 ms against 89 ms
for 76.5 s of mp3), and exact to the sample. `astats` over 10 ms windows was 1.6 to 4.7x slower
and only as exact as its window; `ebur128` is cheaper but sees 100 ms blocks. silencedetect
prints times with six significant digits: 10 us below 10 s, 10 ms past 1000 s.

Measurements are cached by the file's bytes (sha256, hashed on media/cpu.py's threads), at most
CACHE_ENTRIES, least recently used out first; measurements of the same bytes at once share one
FFmpeg run, which stops when the last caller waiting on it goes away.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat, ProcessingFailed
from vidsvc.media import cpu, digest
from vidsvc.media.children import child_limits
from vidsvc.media.probe import MediaInfo
from vidsvc.media.process import Captured, run_capture
from vidsvc.spec import INPUT_FORMATS

#: Below this peak level a sample is silence. Text-to-speech tails are digital silence or
#: dither (16-bit dither peaks near -90 dBFS; an MP3 or AAC encode of silence stays far below),
#: while speech decays through it to its end: flite's last samples fade out at -53 dBFS. Higher,
#: and the soft end of a word is cut; lower, and a recording's noise floor never goes silent.
THRESHOLD_DB = -50
#: The shortest quiet run that counts as silence. A word's own zero crossings are much
#: shorter; it is also the most a quiet tail shorter than it could add to the audible end.
MIN_SILENCE_MS = 10
#: Digital silence appended after the stream: longer than MIN_SILENCE_MS, so the end is always
#: reported, and a whole number of samples at every common rate (8 kHz to 96 kHz, 11.025 kHz).
PAD_MS = 40
CACHE_ENTRIES = 1024  #: measurements kept: a hash and three numbers each
NO_AUDIO = "has no audio stream (a narration must be sound)"
SILENT = f"has no audible sound (nothing above {THRESHOLD_DB} dBFS)"

#: At a line's start: the input's metadata, dumped at the same level, cannot pass for one.
_EVENT = re.compile(
    rb"^\[silencedetect @ 0x[0-9a-f]+\] silence_(start|end): (-?[0-9.]+(?:e[-+]?[0-9]+)?)",
    re.MULTILINE,
)
_OUT_TIME = re.compile(rb"^out_time_us=(\d+)$", re.MULTILINE)
_DEMUXER = re.compile(rb"^Input #0, (.+?), from '", re.MULTILINE)
_PREFIX = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")
#: Log lines that say nothing about a failure: the input's description and the final report.
_BORING = ("Input #", "Output #", "Stream", "Metadata", "Duration", "size=", "video:", "To ignore")


@dataclass(frozen=True, slots=True, kw_only=True)
class Audible:
    duration_ms: int  #: the whole audio stream's length
    audible_ms: int  #: from the file's start to the end of its last sound above THRESHOLD_DB
    seconds: float  #: wall time the measurement took (0.0 on a cache hit), for metadata/bench
    format_name: str = ""  #: the demuxer FFmpeg read it with

    def media_info(self) -> MediaInfo:
        """What a probe would say of it as far as a render needs (sound, its length): a file
        only ever used as a narration is measured instead of probed, one FFmpeg start fewer."""
        return MediaInfo(
            duration_ms=self.duration_ms,
            has_video=False,  # whatever it holds, a narration is read with -vn
            has_audio=True,
            width=None,
            height=None,
            fps=None,
            rotation=0,
            format_name=self.format_name,
            nb_streams=1,  # the one audio stream the measurement and the render map
            video_codec=None,
            audio_codec=None,
        )


class _Refused(Exception):
    """A file the measurement refuses, for every caller sharing it: each names its own field."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class _Flight:
    task: asyncio.Task[Audible]
    waiters: int = 0


_CACHE: OrderedDict[str, Audible] = OrderedDict()
_FLIGHTS: dict[str, _Flight] = {}


async def measure(path: Path, settings: Settings, *, field: str) -> Audible:
    """The duration and audible end of the narration at `path` (a staged local file);
    InvalidClipFormat naming `field` if it has no audio, no audible sound, or cannot be read."""
    sha256 = await cpu.run(digest.of_file, path)
    found = _CACHE.get(sha256)
    if found is not None:
        _CACHE.move_to_end(sha256)
        found = dataclasses.replace(found, seconds=0.0)
    else:
        try:
            found = await _join(sha256, path, settings)
        except _Refused as refused:
            raise InvalidClipFormat.at(field, refused.reason) from None
    if found.duration_ms > settings.max_input_seconds * 1000:  # the probe's limit, its words
        raise InvalidClipFormat.at(
            field, f"lasts longer than the {settings.max_input_seconds:g} s allowed"
        )
    return found


async def _join(sha256: str, path: Path, settings: Settings) -> Audible:
    flight = _FLIGHTS.get(sha256)
    if flight is None:
        flight = _FLIGHTS[sha256] = _Flight(asyncio.create_task(_run(sha256, path, settings)))
        flight.task.add_done_callback(lambda _: _land(sha256, flight))
    flight.waiters += 1
    try:
        return await asyncio.shield(flight.task)
    finally:
        flight.waiters -= 1
        if flight.waiters == 0 and not flight.task.done():
            _land(sha256, flight)  # at once: a caller arriving now must start afresh
            flight.task.cancel()  # no one wants the answer: FFmpeg is stopped


def _land(sha256: str, flight: _Flight) -> None:
    if _FLIGHTS.get(sha256) is flight:
        del _FLIGHTS[sha256]


async def _run(sha256: str, path: Path, settings: Settings) -> Audible:
    started = time.monotonic()
    captured = await _ffmpeg(path, settings)
    duration_ms, audible_ms = _read(captured, path)
    demuxer = _DEMUXER.search(captured.stderr)
    found = Audible(
        duration_ms=duration_ms,
        audible_ms=audible_ms,
        seconds=time.monotonic() - started,
        format_name=demuxer.group(1).decode("utf-8", "replace") if demuxer else "",
    )
    _CACHE[sha256] = found
    while len(_CACHE) > CACHE_ENTRIES:
        _CACHE.popitem(last=False)
    return found


def _argv(path: Path, settings: Settings) -> list[str]:
    return [
        settings.ffmpeg_bin,
        # info: the level silencedetect reports at; -progress gives the exact duration
        *("-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-progress", "pipe:1"),
        *("-protocol_whitelist", "file", "-format_whitelist", ",".join(INPUT_FORMATS)),
        *("-vn", "-sn", "-dn"),  # before -i: the demuxer discards them, nothing is decoded
        *("-i", f"file:{path.absolute()}", "-map", "0:a:0"),  # "file:" as media/probe.py says
        "-af",
        f"apad=pad_dur={PAD_MS}ms,"
        f"silencedetect=noise={THRESHOLD_DB}dB:duration={MIN_SILENCE_MS}ms",
        *("-f", "null", "-"),
    ]


async def _ffmpeg(path: Path, settings: Settings) -> Captured:
    try:
        return await run_capture(
            _argv(path, settings), timeout=settings.probe_timeout, limits=child_limits(settings)
        )
    except TimeoutError:
        raise _Refused(f"could not be measured within {settings.probe_timeout:g} s") from None
    except OSError as exc:
        raise ProcessingFailed(f"ffmpeg could not be started: {exc.strerror}") from None


def _read(captured: Captured, path: Path) -> tuple[int, int]:
    """(duration_ms, audible_ms) from FFmpeg's progress and silencedetect's reports."""
    if captured.returncode != 0:
        if b"matches no streams" in captured.stderr:  # -map 0:a:0 found nothing
            raise _Refused(NO_AUDIO)
        raise _Refused(f"could not be read ({_reason(captured.stderr, path)})")
    out_times = _OUT_TIME.findall(captured.stdout)
    duration_ms = max(0, round(int(out_times[-1]) / 1000) - PAD_MS) if out_times else 0
    starts = [value for kind, value in _EVENT.findall(captured.stderr) if kind == b"start"]
    # The pad makes the last silence run to the end; without a report the stream was empty.
    audible_ms = min(duration_ms, max(0, round(float(starts[-1]) * 1000))) if starts else 0
    if audible_ms <= 0:
        raise _Refused(SILENT)
    return duration_ms, audible_ms


def _reason(stderr: bytes, path: Path) -> str:
    """The last line of FFmpeg's log, without paths; after the line before it when it only
    names the input and an errno (`moov atom not found; Invalid data found when processing…`)."""
    name = f"file:{path.absolute()}"
    lines: list[tuple[bool, str]] = []  # (names only the input, text)
    for raw in stderr.decode("utf-8", "replace").splitlines():
        line = _PREFIX.sub("", raw.strip())
        opening = line.startswith(name)
        for form in (name, str(path.absolute()), str(path)):
            line = line.replace(form, "")
        line = line.lstrip(": ").strip()
        if line and not line.startswith(_BORING):
            lines.append((opening, line))
    if not lines:
        return "ffmpeg failed"
    if lines[-1][0] and len(lines) > 1:
        return f"{lines[-2][1]}; {lines[-1][1]}"[:200]
    return lines[-1][1][:200]
