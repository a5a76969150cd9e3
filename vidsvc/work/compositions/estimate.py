"""Estimator: seconds from acceptance until a composition completes, from measured throughput.

The model, kept simple enough to reason about:

- a job's processing time is a fixed overhead (staging, probing, compiling, storing: every
  stage but encoding) plus its encode, and the encode is the output length divided by the
  share of the machine's throughput it gets;
- the machine's throughput per output resolution, in output seconds per wall second of
  encoding with every render under way counted (a job that encoded at 0.4x while five renders
  shared the cores measured 2.0x of throughput: `sharing` in its metadata, the time average of
  renders under way while its FFmpeg ran), smoothed (EWMA) over the jobs this instance
  finished, so it follows the host's load and the preset in use; the overhead likewise;
- before a resolution's first sample: the nearest fitted resolution's throughput, scaled by
  the square root of the pixel ratio (encoding scales with pixels; decoding the inputs and
  start-up do not), else DEFAULT_SPEED scaled the same way from 720p;
- the output length the composition implies (trims or placements), a guess per clip otherwise;
- the sharing a new job will see: the renders running plus the jobs ahead that will start
  beside it, up to MAX_CONCURRENT_JOBS (renders submitted later are unknowable at POST);
- the wait: none while a slot is free; otherwise the pool finishes `slots` jobs per typical job
  time, and the jobs ahead that cannot start at once must drain first.

`compare(estimate, job)` is what the benchmark reports the model's error with.
"""

from __future__ import annotations

import math

from vidsvc import spec
from vidsvc.jobs import Job, JobKind, JobState
from vidsvc.schema import parse_composition
from vidsvc.spec import RESOLUTIONS
from vidsvc.work.compositions.outcome import CompositionOutcome

DEFAULT_SPEED = 1.5  #: output s per wall s at 720p/medium on 2 cores (bench: ~3x; halved)
DEFAULT_RESOLUTION = "720p"
GUESS_CLIP_SECONDS = 5.0
SMOOTHING = 0.3
#: The stage timings that are not processing (a job's wait in the queue).
_NOT_PROCESSING = ("queued",)


#: Speech rate for a narration known only by its script (about 150 words a minute).
CHARS_PER_SECOND = 15.0


def _clip_seconds(clip: spec.Clip) -> float:
    """The duration given, else the narration's as its words or script tell, else the trim's
    length, else the placement's, else a guess (only a probe would tell)."""
    if clip.duration_ms is not None:
        return clip.duration_ms / 1000
    if clip.duration_from_voiceover:
        extra = clip.voiceover_offset_ms + clip.voiceover_padding_ms
        if clip.voiceover_words:
            return (clip.voiceover_words[-1].end_ms + extra) / 1000
        if clip.voiceover_text:
            return len(clip.voiceover_text) / CHARS_PER_SECOND + extra / 1000
        return GUESS_CLIP_SECONDS
    pairs = ((clip.trim_start_ms or 0, clip.trim_end_ms), (clip.start_ms, clip.end_ms))
    for start, end in pairs:
        if start is not None and end is not None and end > start:
            return (end - start) / 1000
    return GUESS_CLIP_SECONDS


def output_seconds(comp: spec.Composition) -> float:
    """The output length a composition implies, as far as the request tells (a range: its
    own length; the timeline's may not be known before probing)."""
    r = comp.output.range
    return sum(_clip_seconds(c) for c in comp.clips) if r is None else r.duration_ms / 1000


def _pixels(name: str) -> int:
    """Pixels of a resolution name or of a `WxH` shape key (spec.Output.shape_key)."""
    width, height = RESOLUTIONS[name] if name in RESOLUTIONS else map(int, name.split("x"))
    return width * height


def _encoding_seconds(outcome: CompositionOutcome) -> float | None:
    return outcome.timings.get("encoding") or outcome.usage.render_seconds or None


def _processing_seconds(outcome: CompositionOutcome) -> float | None:
    """This attempt's staging-to-stored seconds (its stage timings), else FFmpeg's alone."""
    total = sum(v for k, v in outcome.timings.items() if k not in _NOT_PROCESSING)
    return total if total > 0 else outcome.usage.render_seconds or None


def _observed_output_seconds(outcome: CompositionOutcome) -> float | None:
    # rows written before output_seconds existed: the output's probe
    return outcome.usage.output_seconds or outcome.output_duration


def compare(estimate_s: float, job: Job) -> dict[str, float] | None:
    """Estimate vs actual (acceptance to completion) for a completed job; None otherwise."""
    if job.state is not JobState.COMPLETED or job.finished_at is None:
        return None
    actual = (job.finished_at - job.created_at).total_seconds()
    return {
        "estimated_s": estimate_s,
        "actual_s": round(actual, 3),
        "error_s": round(estimate_s - actual, 3),  # > 0: pessimistic
        "ratio": round(estimate_s / actual, 3) if actual > 0 else math.inf,
    }


class Estimator:
    def __init__(self) -> None:
        self.speeds: dict[
            str, float
        ] = {}  #: fitted throughput (output s per wall s), by resolution
        self.samples: dict[str, int] = {}
        self.overhead: float = 0.0  #: processing seconds besides the encode (EWMA)
        self.job_seconds: float | None = None  #: typical processing seconds of a job (EWMA)

    def speed(self, name: str) -> float:
        """Throughput in output seconds per wall second at resolution `name`, the whole
        machine's (fitted, else derived): one render alone gets all of it."""
        if name in self.speeds:
            return self.speeds[name]
        base, base_speed = DEFAULT_RESOLUTION, DEFAULT_SPEED
        if self.speeds:  # the fitted resolution closest in pixels says most about this host
            base = min(self.speeds, key=lambda r: abs(math.log(_pixels(r) / _pixels(name))))
            base_speed = self.speeds[base]
        return base_speed * math.sqrt(_pixels(base) / _pixels(name))

    def render_seconds(self, comp: spec.Composition, *, sharing: int = 1) -> float:
        """Processing seconds for `comp` once a worker has it, beside `sharing - 1` others."""
        encode = output_seconds(comp) * max(sharing, 1) / self.speed(comp.output.shape_key)
        return self.overhead + encode

    def estimate(
        self, comp: spec.Composition, *, ahead: int = 0, running: int = 0, slots: int = 1
    ) -> float:
        """Seconds from now until `comp` completes, with `ahead` jobs queued before it,
        `running` jobs rendering and `slots` workers (MAX_CONCURRENT_JOBS)."""
        slots = max(slots, 1)
        free = max(slots - running, 0)
        waiting = max(ahead - free + 1, 0)  # jobs that must finish before a slot is ours
        sharing = min(running + ahead + 1, slots)  # the renders ours will run beside
        own = self.render_seconds(comp, sharing=sharing)
        typical = self.job_seconds if self.job_seconds is not None else own
        return round(max(1.0, own + waiting * typical / slots), 1)

    def observe(self, job: Job, comp: spec.Composition | None = None) -> None:
        """A job this instance finished: completed compositions that rendered are samples
        (at the resolution their request asked for; `comp`: its payload, parsed already)."""
        if job.state is not JobState.COMPLETED or job.kind is not JobKind.COMPOSITION:
            return
        outcome = CompositionOutcome.from_dict(job.metadata)
        if not outcome.usage.render_seconds:
            return  # a render-cache hit: no render to learn from
        wall, length = _processing_seconds(outcome), _observed_output_seconds(outcome)
        encode = _encoding_seconds(outcome)
        if not wall or not length or not encode or min(wall, length, encode) <= 0:
            return
        sharing = max(outcome.sharing or 1.0, 1.0)
        name = (comp or parse_composition(job.payload)).output.shape_key
        speed = length * sharing / encode
        n = self.samples.get(name, 0)
        self.speeds[name] = speed if n == 0 else _ewma(self.speeds[name], speed)
        self.samples[name] = n + 1
        overhead = max(wall - encode, 0.0)
        first = self.job_seconds is None
        self.overhead = overhead if first else _ewma(self.overhead, overhead)
        self.job_seconds = wall if self.job_seconds is None else _ewma(self.job_seconds, wall)


def _ewma(old: float, new: float) -> float:
    return (1 - SMOOTHING) * old + SMOOTHING * new
