"""The benchmark's figures and results: statistics, shape, table; one tiny run end to end."""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from bench.report import markdown, verdicts, write
from bench.stats import METHODS, VARIANTS, check_shape, percentile, summary
from bench.suite import Plan, Report, measure_all


def results(**changes):
    latency = {m: {"median": 2.0 * (i + 1), "p95": 3.0 * (i + 1), "p99": 4.0 * (i + 1)}
               for i, m in enumerate(METHODS)}
    base = {
        "latency_ms": {v: {m: dict(f) for m, f in latency.items()} for v in VARIANTS},
        "jitter_ms": {k: {"p50": 0.04, "p99": 0.1} for k in ("idle", "loaded", "loaded_unraised", "strikes")},
        "scaling": [{"accounts": n, "all_committed_ms": 4.0 * n, "floor_ms": 3.5 * n,
                     "rss_mb": 300.0 + n} for n in (1, 5, 10)],
        "targets_at_once": {v: [{"targets": 1, "all_committed_ms": 3.0, "floor_ms": 2.0},
                                {"targets": 3, "all_committed_ms": 4.0, "floor_ms": 3.0}]
                            for v in VARIANTS},
        "win_rate": {"hall-rush": 1.0, "fast": 0.9},
        "status_s": 0.3,
        "plan_s": 0.4,
        "daemon_mb": {"idle_rss": 90.0, "login_peak_rss": 1500.0, "login_peak_pss": 700.0},
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
    del missing["latency_ms"]["classic"]["naive"]
    assert any("latency_ms.classic keys" in p for p in check_shape(missing))
    assert check_shape(results(jitter_ms={"p50": 1.0})) != []
    assert check_shape(results(scaling=[{"accounts": 1}])) != []
    assert check_shape(results(targets_at_once={"likely": []})) != []
    assert check_shape(results(daemon_mb={"idle_rss": 1.0})) != []
    assert check_shape(results(win_rate={"fast": 1.5})) != []
    assert check_shape({**results(), "extra": 1}) != []


def test_targets_are_judged_by_ratios_to_what_the_same_run_measured():
    judged = verdicts(results())
    # api_prepared (2nd contender) against the floor and the two-request reference
    assert judged["prepared_vs_floor"][:2] == (False, "6.0 ms = 3.00×")
    assert judged["prepared_vs_floor"][2] == "floor 2.0 ms"
    assert judged["prepared_vs_reference"][0] is False
    assert judged["accounts"][0] is True and "10 raw POSTs 35.0 ms" in judged["accounts"][2]
    assert judged["targets_likely"][0] is True  # 4.0 ms against 3.0 for one: 1.33×
    assert judged["daemon_logins"][0] is True  # judged on PSS, summed RSS shown beside
    assert "1500.0" in judged["daemon_logins"][2]
    fast = results()
    for variant in VARIANTS:
        fast["latency_ms"][variant]["api_prepared"]["median"] = 2.2
    assert verdicts(fast)["prepared_vs_floor"][0] is True
    slow = verdicts(results(status_s=0.4, plan_s=0.6,
                            jitter_ms={k: {"p50": 1.0, "p99": 3.0}
                                       for k in ("idle", "loaded", "loaded_unraised",
                                                 "strikes")}))
    assert slow["status"][0] is False and slow["plan"][0] is False
    assert slow["jitter_loaded"][0] is False


def test_table_puts_every_row_beside_its_floor_and_reference_in_each_variant(tmp_path):
    report = Report(results(), {"plan": "quick", "latency": {}, "machine": {"cores": 2}})
    table = markdown(report)
    for method in ("physical floor", "reference: raw slot lookup", "as the engine fires it",
                   "snipe `ui` strike", "Playwright `context.request`", "naive cron bot",
                   "`likely` median", "`classic` median", "design target"):
        assert method in table
    # api (4th method) in each variant: 8.0 ms, 4.00× the 2.0 ms floor, 2.00× the reference
    assert table.count(" 8.0 | 12.0 | 4.00× | 2.00× |") == 2
    data, md = write(report, tmp_path)
    assert data.name == "quick.json" and md.read_text() == table
    assert json.loads(data.read_text())["results"] == results()


@pytest.mark.slow
@pytest.mark.browser
def test_a_tiny_run_measures_every_part_and_has_the_documented_shape():
    report = asyncio.run(measure_all(Plan.tiny(), lambda _message: None))
    assert check_shape(report.results) == []
    assert set(report.results["latency_ms"]) == set(VARIANTS)
    assert [row["accounts"] for row in report.results["scaling"]] == [1, 2]
    assert {v: [r["targets"] for r in rows]
            for v, rows in report.results["targets_at_once"].items()} == {
        v: [1, 3] for v in VARIANTS}
    assert set(report.results["win_rate"]) == {"fast"}
    assert report.details["commands"]["strikes"] == 1000
    assert markdown(report).count("| design target |") == 1


def test_the_web_first_paint_is_timed_over_a_thousand_strikes():
    from bench.web_time import line, time_first_paint

    result = time_first_paint(runs=1, strikes=1000)
    assert result["strikes"] == 1000
    assert set(result["pages"]) == {"/", "/slots", "/bookings", "/targets", "/accounts"}
    assert all(p["bytes"] > 0 for p in result["pages"].values())
    assert line(result).startswith("Web dashboard, first paint on the server with 1,000 strikes")
