from __future__ import annotations


def test_simulate_prints_both_strategies_per_level(snipe) -> None:
    result = snipe("simulate", "--runs", "4", "--level", "none", "--level", "extreme")
    assert result.code == 0, result.err
    assert "planner" in result.out and "naive" in result.out
    assert "extreme" in result.out and "medium" not in result.out


def test_simulate_json_has_one_row_per_level_and_strategy(snipe) -> None:
    result = snipe("simulate", "--runs", "3", "--seed", "5", "--json")
    assert result.code == 0, result.err
    rows = result.json()["rows"]
    assert len(rows) == 10
    assert {r["strategy"] for r in rows} == {"planner", "naive"}
    assert all(0.0 <= r["block_rate"] <= 1.0 for r in rows)


def test_simulate_refuses_an_unknown_level(snipe) -> None:
    result = snipe("simulate", "--level", "apocalyptic")
    assert result.code == 1
    assert "unknown contention level 'apocalyptic'" in result.err
