"""Summaries of the measured figures and the shape of the results object."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

METHODS = ("floor", "api", "ui", "pw_request", "naive")
REFERENCES = ("floor2",)  # measured beside the methods, reported in the details and the table


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def summary(values: Iterable[float]) -> dict[str, float | None]:
    """Median, p95 and p99, rounded to 0.01 ms; None when nothing was measured."""
    data = [v for v in values if v is not None and not math.isnan(v)]
    if not data:
        return {"median": None, "p95": None, "p99": None}
    return {"median": round(percentile(data, 50), 2), "p95": round(percentile(data, 95), 2),
            "p99": round(percentile(data, 99), 2)}


def check_shape(results: dict[str, Any]) -> list[str]:
    """What differs from the documented results shape (empty when it matches)."""
    problems = []
    if set(results) != {"latency_ms", "jitter_ms", "scaling", "win_rate", "status_s"}:
        problems.append(f"top-level keys are {sorted(results)}")
        return problems
    latency = results["latency_ms"]
    if not isinstance(latency, dict) or set(latency) != set(METHODS):
        problems.append(f"latency_ms keys are {sorted(latency) if isinstance(latency, dict) else latency}")
    else:
        for method, figures in latency.items():
            if not isinstance(figures, dict) or set(figures) != {"median", "p95", "p99"}:
                problems.append(f"latency_ms.{method} is {figures!r}")
    if not isinstance(results["jitter_ms"], dict) or set(results["jitter_ms"]) != {"p50", "p99"}:
        problems.append(f"jitter_ms is {results['jitter_ms']!r}")
    scaling = results["scaling"]
    if not isinstance(scaling, list) or not scaling:
        problems.append("scaling is not a non-empty list")
    else:
        for row in scaling:
            if not isinstance(row, dict) or set(row) != {"accounts", "all_committed_ms", "rss_mb"}:
                problems.append(f"scaling row {row!r}")
    win = results["win_rate"]
    if not isinstance(win, dict) or not all(
            isinstance(k, str) and (v is None or 0.0 <= v <= 1.0) for k, v in win.items()):
        problems.append(f"win_rate is {win!r}")
    if not isinstance(results["status_s"], int | float):
        problems.append(f"status_s is {results['status_s']!r}")
    return problems
