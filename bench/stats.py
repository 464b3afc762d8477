"""Summaries of the measured figures and the shape of the results object."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

METHODS = ("floor", "floor2", "api_prepared", "api", "ui", "pw_request", "naive")
VARIANTS = ("likely", "classic")  # the sandbox variants every latency row is measured under
REFERENCES = ("floor", "floor2")  # what the others are measured against


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


def jitter_summary(values: Iterable[float]) -> dict[str, float | None]:
    """p50 and p99 of how far shots landed from their instant (absolute), to 0.001 ms."""
    data = [abs(v) for v in values]
    if not data:
        return {"p50": None, "p99": None}
    return {"p50": round(percentile(data, 50), 3), "p99": round(percentile(data, 99), 3)}


TOP_LEVEL = {"latency_ms", "jitter_ms", "scaling", "targets_at_once", "win_rate", "status_s",
             "plan_s", "daemon_mb"}


def check_shape(results: dict[str, Any]) -> list[str]:
    """What differs from the documented results shape (empty when it matches)."""
    problems = []
    if set(results) != TOP_LEVEL:
        problems.append(f"top-level keys are {sorted(results)}")
        return problems
    latency = results["latency_ms"]
    if not isinstance(latency, dict) or not latency or not set(latency) <= set(VARIANTS):
        shown = sorted(latency) if isinstance(latency, dict) else latency
        problems.append(f"latency_ms variants are {shown}")
    else:
        for variant, rows in latency.items():
            if not isinstance(rows, dict) or set(rows) != set(METHODS):
                problems.append(f"latency_ms.{variant} keys are "
                                f"{sorted(rows) if isinstance(rows, dict) else rows}")
                continue
            for method, figures in rows.items():
                if not isinstance(figures, dict) or set(figures) != {"median", "p95", "p99"}:
                    problems.append(f"latency_ms.{variant}.{method} is {figures!r}")
    jitter = results["jitter_ms"]
    if not isinstance(jitter, dict) or set(jitter) != {"idle", "loaded", "loaded_unraised",
                                                            "strikes"} or not all(
            isinstance(v, dict) and set(v) == {"p50", "p99"} for v in jitter.values()):
        problems.append(f"jitter_ms is {jitter!r}")
    at_once = results["targets_at_once"]
    if not isinstance(at_once, dict) or not set(at_once) <= set(VARIANTS) or not all(
            isinstance(rows, list) and rows and all(
                isinstance(r, dict) and set(r) == {"targets", "all_committed_ms", "floor_ms"}
                for r in rows) for rows in at_once.values()):
        problems.append(f"targets_at_once is {at_once!r}")
    daemon = results["daemon_mb"]
    if not isinstance(daemon, dict) or set(daemon) != {"idle_rss", "login_peak_rss", "login_peak_pss"}:
        problems.append(f"daemon_mb is {daemon!r}")
    if not isinstance(results["plan_s"], int | float):
        problems.append(f"plan_s is {results['plan_s']!r}")
    scaling = results["scaling"]
    if not isinstance(scaling, list) or not scaling:
        problems.append("scaling is not a non-empty list")
    else:
        for row in scaling:
            if not isinstance(row, dict) or set(row) != {"accounts", "all_committed_ms", "floor_ms",
                                                             "rss_mb"}:
                problems.append(f"scaling row {row!r}")
    win = results["win_rate"]
    if not isinstance(win, dict) or not all(
            isinstance(k, str) and (v is None or 0.0 <= v <= 1.0) for k, v in win.items()):
        problems.append(f"win_rate is {win!r}")
    if not isinstance(results["status_s"], int | float):
        problems.append(f"status_s is {results['status_s']!r}")
    return problems
