"""The strategy simulator: modelled contention, the planner against the seed's naive strategy."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from snipe.domain.contention import LEVELS, World, level
from snipe.domain.ledger import FULL, NOT_OPEN, PRIMARY, WON, Attempt
from snipe.domain.simulator import NAIVE, PLANNER, compare, play, seed_scenario
from snipe.profiles import load_profile

PROFILE = load_profile("x-tudelft")
SCENARIO = seed_scenario(PROFILE)
RUNS = 60


@pytest.fixture(scope="module")
def report():
    return {(r.level, r.strategy): r for r in compare(SCENARIO, runs=RUNS, seed=7)}


def test_planner_is_never_worse_than_naive_at_any_contention_level(report) -> None:
    for c in LEVELS:
        ours, naive = report[(c.name, PLANNER)], report[(c.name, NAIVE)]
        assert ours.block_rate >= naive.block_rate, c.name
        assert ours.full_rate >= naive.full_rate, c.name


def test_contention_hurts_the_naive_strategy_more(report) -> None:
    assert report[("extreme", NAIVE)].block_rate < report[("none", NAIVE)].block_rate
    assert report[("extreme", PLANNER)].block_rate - report[("extreme", NAIVE)].block_rate > 0.3


def test_without_contention_the_planner_wins_the_full_preferred_block(report) -> None:
    ours, naive = report[("none", PLANNER)], report[("none", NAIVE)]
    assert ours.preferred_rate == 1.0
    # The naive strategy keeps its surplus 11:00 win, so no account is left for the third hour.
    assert naive.full_rate == 0.0 and naive.wasted_per_run >= 1.0


def test_same_seed_gives_the_same_report() -> None:
    high = level("high")
    assert play(SCENARIO, high, PLANNER, 5, seed=3) == play(SCENARIO, high, PLANNER, 5, seed=3)


def test_unknown_level_and_zero_runs_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown contention level"):
        level("apocalyptic")
    with pytest.raises(ValueError, match="at least 1"):
        play(SCENARIO, LEVELS[0], PLANNER, 0)


def test_world_gives_a_hall_to_whoever_arrives_first() -> None:
    world = World(PROFILE, SCENARIO.target, level("high"), random.Random(1))
    day = SCENARIO.target.days[0]
    unlock = world.unlock("X1", day, 17)
    sub = ("X1", "X1 A", day, 17)
    world.taken_at[sub] = 0.5  # a competitor lands half a second after the unlock

    def attempt(account: str, seconds: float):
        a = Attempt("t", account, "X1", "X1 A", day, 17, PRIMARY, unlock)
        return world.attempt(a, unlock + timedelta(seconds=seconds)).result

    assert attempt("user1", -0.01) == NOT_OPEN
    assert attempt("user1", 0.05) == WON
    assert attempt("user2", 0.06) == FULL  # capacity 1: ours already
    world.release(world.bookings[0].ref)
    assert attempt("user2", 0.7) == FULL  # released after the competitor came: gone
