"""The ceiling: exhaustive expectimax over the seed example's decision tree against peers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from snipe.domain.ceiling import Tree, ceiling
from snipe.domain.rivals import Rivals, SimulationError
from snipe.domain.simulator import seed_scenario
from snipe.profiles import load_profile

PROFILE = load_profile("x-tudelft")
SEED = seed_scenario(PROFILE)


def peers(n: int) -> Rivals:
    return Rivals("peer", n)


def test_one_hour_against_one_peer_per_hall_is_best_split_two_and_one() -> None:
    # k of ours against r on a hall win it with k/(k+r): 2+1 -> 1 - (1/3)(1/2) = 5/6, better
    # than 3+0 (3/4) or a lone attempt (1/2).
    tree = Tree(hours=1, length=1, accounts=3, aims=(1, 1))
    value, split = tree.best()
    assert value == pytest.approx(5 / 6) and split == (2, 1)
    assert Tree(hours=1, length=1, accounts=1, aims=(1, 1)).best()[0] == pytest.approx(1 / 2)


def test_a_hall_no_peer_aims_at_is_ours_for_the_asking() -> None:
    assert Tree(hours=1, length=1, accounts=1, aims=(1, 0)).best() == (1.0, (0, 1))


def test_without_peers_or_with_one_the_full_block_is_certain() -> None:
    assert ceiling(SEED, peers(0)).value == 1.0
    assert ceiling(SEED, peers(1)).value == 1.0


def test_seed_example_ceilings_against_two_and_four_peers() -> None:
    two, four = ceiling(SEED, peers(2)), ceiling(SEED, peers(4))
    assert two.value == pytest.approx(0.6110, abs=1e-4)
    assert four.value == pytest.approx(0.3192, abs=1e-4)
    # The best policy opens with the seed's plan: two accounts on X1 A, one on X1 B.
    assert two.first_split == four.first_split == (2, 1)
    assert two.states < 100  # memoised: the tree collapses to a few dozen states


def test_keeping_a_held_accepted_block_lowers_the_ceiling() -> None:
    # A policy that never gives up X1 2 h once held cannot go for a fresh 3 h block later.
    for n, expected in ((2, 0.4807), (4, 0.2684)):
        kept = ceiling(SEED, peers(n), keeping=True).value
        assert kept == pytest.approx(expected, abs=1e-4)
        assert kept < ceiling(SEED, peers(n)).value


def test_more_peers_never_raise_the_ceiling() -> None:
    values = [ceiling(SEED, peers(n)).value for n in range(7)]
    assert values == sorted(values, reverse=True)


def test_all_or_nothing_targets_keep_nothing_so_both_ceilings_agree() -> None:
    strict = replace(SEED, target=replace(SEED.target, min_length=3))
    assert ceiling(strict, peers(2), keeping=True).value == ceiling(strict, peers(2)).value


def test_other_account_rules_are_refused() -> None:
    loose = replace(PROFILE, rules=replace(PROFILE.rules, max_bookings_per_location_per_day=2))
    with pytest.raises(SimulationError, match="one-booking-per-hour"):
        ceiling(replace(SEED, profile=loose), peers(2))
