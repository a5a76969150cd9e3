"""What /metrics learns from a composition's smart-render plan (its CompositionOutcome)."""

from __future__ import annotations

from prometheus_client import generate_latest

from tests.support.jobs import make_job
from vidsvc.jobs import JobState
from vidsvc.work.compositions.metrics import CompositionMetrics


def sample(metrics: CompositionMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_plans_are_counted_with_their_copied_and_encoded_seconds() -> None:
    metrics = CompositionMetrics()
    applied = {"applied": True, "reason": "render-ready clips", "copied_seconds": 50.0,
               "encoded_seconds": 10.5}  # fmt: skip
    for plan in (applied, applied, {"applied": False, "reason": "no clip is render-ready"}):
        job = make_job(state=JobState.COMPLETED,
                       metadata={"render_seconds": 4.0, "output_seconds": 60.5,
                                 "smart_render": plan})  # fmt: skip
        metrics.observe(job)
    assert sample(metrics, "vidsvc_smart_renders_total", applied="true") == 2
    assert sample(metrics, "vidsvc_smart_renders_total", applied="false") == 1
    assert sample(metrics, "vidsvc_smart_render_seconds_total", span="copied") == 100.0
    assert sample(metrics, "vidsvc_smart_render_seconds_total", span="encoded") == 21.0
    assert b"vidsvc_smart_render_seconds_total" in generate_latest(metrics.registry)


def test_a_cache_hit_or_a_clip_job_counts_no_plan() -> None:
    metrics = CompositionMetrics()
    metrics.observe(make_job(state=JobState.COMPLETED, metadata={"render_seconds": 0.0}))
    metrics.observe(make_job(state=JobState.COMPLETED, metadata={"render_seconds": 2.0}))
    assert sample(metrics, "vidsvc_smart_renders_total", applied="true") == 0
    assert sample(metrics, "vidsvc_smart_renders_total", applied="false") == 0
