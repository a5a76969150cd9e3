"""A beat tracker in numpy: onset strength, tempo by autocorrelation, beats by dynamic programming.

The method of Ellis (2007), which librosa's beat_track also follows: spectral flux of a log
spectrogram is the onset strength; its autocorrelation, weighted by a log-normal prior around
120 BPM, gives the beat period (refined between lags by a parabola); a dynamic programme then
picks the onsets that best agree with that period. Chosen over librosa by measurement (README,
"Sound"): the same beats on our test signals, without librosa's ~420 MB of numba, llvmlite,
scipy and scikit-learn or its JIT warm-up (9.5 s for the first call on this machine).

Pure computation on an array: no I/O. Imports numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 22_050  #: what the decoder is asked for (mono float32)
N_FFT = 1024
BLOCK_FRAMES = 4096  #: spectrogram frames computed at once (16 MB)
HOP = 256  #: 11.6 ms per onset frame: beat times are this precise
MIN_BPM, MAX_BPM = 40.0, 240.0
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0  #: where the tempo prior is centred, and its width
LATENCY_FRAMES = 1
TIGHTNESS = 100.0  #: how strongly the beats keep to the period (librosa's default)
SILENT_RMS = 10 ** (-60 / 20)  #: below -60 dBFS RMS the file has nothing to track
#: The onset autocorrelation at the beat period, over its value at lag 0: 0.95-0.97 on click
#: tracks and drum loops, 0.07-0.09 on white and pink noise, 0.003 on a steady tone. Below
#: this there is no beat, which is an answer (bpm null, no beats), not an error.
MIN_PERIODICITY = 0.2

Samples = npt.NDArray[np.float32]
Floats = npt.NDArray[np.float64]


class NoBeats(ValueError):
    """The audio is silent or has no onsets to track."""


@dataclass(frozen=True, slots=True)
class Beats:
    bpm: float | None  #: None: no steady beat (noise, a held tone, speech)
    beats: tuple[float, ...]  #: seconds from the start
    periodicity: float  #: see MIN_PERIODICITY


def onset_strength(y: Samples) -> Floats:
    """Spectral flux of the log-magnitude spectrogram, one value per HOP samples."""
    pad = np.pad(y, N_FFT // 2)  # float32: 10 minutes stay 53 MB
    frames = 1 + (len(pad) - N_FFT) // HOP
    if frames < 2:
        return np.zeros(1)
    window = np.hanning(N_FFT)
    flux = np.zeros(frames)
    previous: Floats | None = None
    for first in range(0, frames, BLOCK_FRAMES):  # in blocks: 10 min at once would be 420 MB
        count = min(BLOCK_FRAMES, frames - first)
        index = np.arange(N_FFT)[None, :] + HOP * np.arange(first, first + count)[:, None]
        log_spec = np.log1p(1000.0 * np.abs(np.fft.rfft(pad[index] * window, axis=1)))
        if previous is not None:
            log_spec = np.concatenate([previous[None, :], log_spec])
        rises = np.maximum(0.0, np.diff(log_spec, axis=0)).sum(axis=1)
        flux[first + (previous is None) : first + count] = rises
        previous = log_spec[-1]
    flux -= np.convolve(flux, np.ones(16) / 16, mode="same")  # local mean off: no slow drift
    result: Floats = np.maximum(flux, 0.0)
    return result


def beat_period(onsets: Floats) -> tuple[float, float]:
    """The beat period in onset frames (fractional), from the weighted autocorrelation, and
    the periodicity there (the autocorrelation over its lag-0 value)."""
    fps = SAMPLE_RATE / HOP
    lo, hi = int(fps * 60 / MAX_BPM), int(fps * 60 / MIN_BPM) + 1
    # smoothed first: a click's onset is one frame wide, and a period between two frames would
    # miss itself at either neighbouring lag (150 BPM read as 75 before this)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    smooth = np.convolve(onsets, kernel, mode="same")
    centred = smooth - smooth.mean()
    lags = np.arange(lo, min(hi, len(centred) - 1))
    if len(lags) == 0:
        raise NoBeats("too short to find a tempo")
    # only the lags a tempo can have (np.correlate would do all n² of them)
    acf = np.array([np.dot(centred[:-lag], centred[lag:]) for lag in lags])
    bpm = 60 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    score = acf / (len(centred) - lags) * prior
    best = int(np.argmax(score))
    energy = float(np.dot(centred, centred))
    periodicity = float(acf[best]) / energy if energy > 0 else 0.0
    if 0 < best < len(score) - 1:  # a parabola through the peak: the lag between frames
        a, b, c = score[best - 1], score[best], score[best + 1]
        shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
        return float(lags[best] + shift), periodicity
    return float(lags[best]), periodicity


def _dynamic_beats(onsets: Floats, period: float) -> list[int]:
    """Ellis' dynamic programme: each frame's best predecessor about one period back."""
    norm = onsets / (onsets.std() or 1.0)
    # a lightly smoothed onset (Gaussian over a 16th of the period) as the local score
    width = max(1.0, period / 16)
    window = np.exp(-0.5 * (np.arange(-int(4 * width), int(4 * width) + 1) / width) ** 2)
    local = np.convolve(norm, window, mode="same")
    score = local.copy()
    back = np.full(len(local), -1)
    lo, hi = round(period / 2), round(2 * period)
    offsets = np.arange(lo, hi + 1)
    penalty = -TIGHTNESS * np.log(offsets / period) ** 2
    for t in range(lo, len(local)):
        prev = t - offsets
        valid = prev >= 0
        candidates = score[prev[valid]] + penalty[valid]
        best = int(np.argmax(candidates))
        if candidates[best] > 0:
            score[t] = local[t] + candidates[best]
            back[t] = int(prev[valid][best])
    # the last beat: the best-scoring frame in the final period whose score is a local peak
    tail = max(0, len(score) - int(np.ceil(period)))
    t = tail + int(np.argmax(score[tail:]))
    beats = [t]
    while back[t] >= 0:
        t = int(back[t])
        beats.append(t)
    beats.reverse()
    # leading/trailing beats on silence are the programme's guesses: keep those with an onset
    strong = local > 0.5 * np.median(local[beats]) if beats else local > 0
    kept = [b for b in beats if strong[b]]
    return kept if len(kept) >= 2 else beats


def track(y: Samples) -> Beats:
    """Tempo and beat times of mono audio at SAMPLE_RATE; NoBeats if silent or beatless."""
    if len(y) == 0 or float(np.linalg.norm(y)) / np.sqrt(len(y)) < SILENT_RMS:
        raise NoBeats("the audio is silent")
    onsets = onset_strength(y)
    if not np.any(onsets > 0):
        return Beats(bpm=None, beats=(), periodicity=0.0)
    period, periodicity = beat_period(onsets)
    if periodicity < MIN_PERIODICITY:
        return Beats(bpm=None, beats=(), periodicity=round(periodicity, 3))
    frames = _dynamic_beats(onsets, period)
    # +1 frame: a frame's window (centred on it) meets an onset half a window early; measured
    # on click tracks at 100, 120 and 150 BPM, this puts beats within 6 ms of the clicks
    times = tuple(round((f + LATENCY_FRAMES) * HOP / SAMPLE_RATE, 3) for f in frames)
    if len(times) < 2:
        return Beats(bpm=None, beats=(), periodicity=round(periodicity, 3))
    bpm = 60.0 / float(np.median(np.diff(times)))
    return Beats(bpm=round(bpm, 2), beats=times, periodicity=round(periodicity, 3))
