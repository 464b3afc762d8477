"""The benchmark's figures and results: statistics, shape, table; one tiny run end to end."""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from bench.report import markdown, verdicts, write
from bench.stats import METHODS, check_shape, percentile, summary
from bench.suite import Plan, Report, measure_all


def results(**changes):
    base = {
        "latency_ms": {m: {"median": 2.0 * (i + 1), "p95": 3.0 * (i + 1), "p99": 4.0 * (i + 1)}
                       for i, m in enumerate(METHODS)},
        "jitter_ms": {"p50": 0.4, "p99": 1.2},
        "scaling": [{"accounts": n, "all_committed_ms": 4.0 * n, "rss_mb": 300.0 + n}
                    for n in (1, 5, 10)],
        "win_rate": {"hall-rush": 1.0, "fast": 0.9},
        "status_s": 0.3,
    }
    base.update(changes)
    return base


def test_percentiles_interpolate_between_ranks_like_numpy():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_summary_ignores_rounds_that_committed_nothing():
    assert summary([None, 1.0, 3.0, None]) == {"median": 2.0, "p95": 2.9, "p99": 2.98}
    assert summary([None]) == {"median": None, "p95": None, "p99": None}


def test_documented_shape_passes_and_each_deviation_is_named():
    assert check_shape(results()) == []
    missing = results()
    del missing["latency_ms"]["naive"]
    assert any("latency_ms keys" in p for p in check_shape(missing))
    assert check_shape(results(jitter_ms={"p50": 1.0})) != []
    assert check_shape(results(scaling=[{"accounts": 1}])) != []
    assert check_shape(results(win_rate={"fast": 1.5})) != []
    assert check_shape({**results(), "extra": 1}) != []


def test_targets_are_judged_from_the_figures():
    judged = verdicts(results())
    assert judged["api_vs_floor"] == (True, "2.00×")
    assert judged["jitter_p99"][0] is True
    assert judged["ten_accounts"] == (True, "40.0 ms")
    assert judged["status"][0] is True
    slow = verdicts(results(status_s=0.7, jitter_ms={"p50": 1.0, "p99": 6.0}))
    assert slow["status"][0] is False and slow["jitter_p99"][0] is False


def test_table_puts_every_baseline_beside_ours_with_its_ratio_to_the_floor(tmp_path):
    report = Report(results(), {"plan": "quick", "latency": {}, "machine": {"cores": 2}})
    table = markdown(report)
    for method in ("physical floor", "snipe `api` strike", "snipe `ui` strike",
                   "Playwright `context.request`", "naive cron bot"):
        assert method in table
    assert "| 4.0 | 6.0 | 8.0 | 2.0× |" in table  # api against a 2.0 ms floor
    data, md = write(report, tmp_path)
    assert data.name == "quick.json" and md.read_text() == table
    assert json.loads(data.read_text())["results"] == results()


@pytest.mark.slow
@pytest.mark.browser
def test_a_tiny_run_measures_every_part_and_has_the_documented_shape():
    plan = Plan("tiny", {"floor": 1, "api": 1, "ui": 0, "pw_request": 1, "naive": 0}, (1, 2), 1,
                {"fast": 2}, 1)
    report = asyncio.run(measure_all(plan, lambda _message: None))
    assert check_shape(report.results) == []
    latency = report.results["latency_ms"]
    assert latency["floor"]["median"] > 0 and latency["api"]["median"] > 0
    assert latency["naive"]["median"] is None  # not measured in this plan
    assert [row["accounts"] for row in report.results["scaling"]] == [1, 2]
    assert all(row["all_committed_ms"] > 0 and row["rss_mb"] > 0
               for row in report.results["scaling"])
    assert set(report.results["win_rate"]) == {"fast"}
    assert report.details["status"]["strikes"] == 1000


def test_the_web_first_paint_is_timed_over_a_thousand_strikes():
    from bench.web_time import line, time_first_paint

    result = time_first_paint(runs=1, strikes=1000)
    assert result["strikes"] == 1000
    assert set(result["pages"]) == {"/", "/slots", "/bookings", "/targets", "/accounts"}
    assert all(p["bytes"] > 0 for p in result["pages"].values())
    assert line(result).startswith("Web dashboard, first paint on the server with 1,000 strikes")
