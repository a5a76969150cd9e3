"""Every measure, in the order `python -m bench` runs them: each named by the question it
asks. A measure that compares with another's numbers comes after it (see Measure.needs)."""

from __future__ import annotations

from bench.harness.measure import Measure
from bench.measures import (
    concurrency,
    estimator,
    instances,
    instances_smart,
    loop_lag,
    memory,
    moviepy,
    narration,
    overhead,
    overlays,
    presets,
    previews,
    renditions,
    smart,
    sound,
    split,
    text,
)

MEASURES: tuple[Measure, ...] = (
    overhead.MEASURE,
    moviepy.MEASURE,
    concurrency.MEASURE,
    memory.MEASURE,
    estimator.MEASURE,
    presets.MEASURE,
    smart.MEASURE,
    sound.MEASURE,
    text.MEASURE,
    narration.MEASURE,
    overlays.MEASURE,
    loop_lag.MEASURE,
    previews.MEASURE,
    renditions.MEASURE,
    split.MEASURE,
    instances.MEASURE,
    instances_smart.MEASURE,
)
