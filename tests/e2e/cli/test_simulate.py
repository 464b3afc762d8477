from __future__ import annotations

import pytest


def test_simulate_prints_every_strategy_per_rival_level_with_the_ceiling(snipe) -> None:
    result = snipe("simulate", "--runs", "3", "--rivals", "peer:0", "--rivals", "peer:2")
    assert result.code == 0, result.err
    for word in ("snipe-before", "snipe", "naive", "peer:0", "peer:2", "ceiling", "61.1%"):
        assert word in result.out
    assert "peer:4" not in result.out


def test_simulate_json_has_one_row_per_rival_level_and_strategy(snipe) -> None:
    result = snipe("simulate", "--runs", "3", "--seed", "5", "--json",
                   "--rivals", "peer:0,peer:1,peer:2,peer:4")
    assert result.code == 0, result.err
    rows = result.json()["rows"]
    assert len(rows) == 12
    assert {r["strategy"] for r in rows} == {"snipe", "snipe-before", "naive"}
    assert [r["rivals"] for r in rows[::3]] == ["peer:0", "peer:1", "peer:2", "peer:4"]
    for r in rows:
        assert r["runs"] == 3
        assert r["full_block"] + r["fallback_block"] + r["nothing"] == pytest.approx(1.0, abs=1e-3)
        assert r["surplus_per_target"] >= 0 and 0 < r["ceiling"] <= 1
    assert {r["ceiling"] for r in rows if r["rivals"] == "peer:1"} == {1.0}


def test_simulate_plays_the_example_with_another_insurance_policy(snipe) -> None:
    result = snipe("simulate", "--runs", "2", "--rivals", "peer:2", "--insurance", "keep", "--json")
    assert result.code == 0, result.err
    assert result.json()["insurance"] == "keep"


def test_simulate_still_plays_the_modelled_contention_levels(snipe) -> None:
    result = snipe("simulate", "--runs", "2", "--level", "none", "--level", "extreme", "--json")
    assert result.code == 0, result.err
    rows = result.json()["rows"]
    assert [r["level"] for r in rows[::3]] == ["none", "extreme"]
    assert all(r["ceiling"] is None for r in rows)


@pytest.mark.parametrize("args, message", [
    (("--rivals", "bot:2"), "unknown rival profile 'bot:2'"),
    (("--rivals", "peer:-1"), "whole number of rivals >= 0"),
    (("--rivals", "peer:two"), "whole number of rivals >= 0"),
    (("--runs", "0"), "--runs must be at least 1 (got 0)"),
    (("--level", "apocalyptic"), "unknown contention level 'apocalyptic'"),
    (("--insurance", "sometimes"), "unknown insurance policy 'sometimes'"),
])
def test_simulate_refuses_bad_input_with_one_line_and_exit_2(snipe, args, message) -> None:
    result = snipe("simulate", *args)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
