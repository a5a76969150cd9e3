"""The job lifecycle that knows no kind of work: the Runner façade, the pool, execute, leases,
progress writes, and telemetry (metrics, the estimator, health)."""

from __future__ import annotations
