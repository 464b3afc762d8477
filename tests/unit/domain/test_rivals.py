"""Rivals as fast as we are: the `peer` profile, one hall-hour's race, and the site around it."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from snipe.domain.contention import World, level
from snipe.domain.ledger import BACKUP, FULL, PRIMARY, WON, Attempt
from snipe.domain.rivals import HallRace, Rivals, SimulationError, parse_rivals
from snipe.domain.simulator import seed_scenario
from snipe.profiles import load_profile

PROFILE = load_profile("x-tudelft")
SCENARIO = seed_scenario(PROFILE)
DAY = SCENARIO.target.days[0]
SUBS = ("X1 A", "X1 B")


def test_rival_levels_are_read_from_lists_and_repeats() -> None:
    assert [r.name for r in parse_rivals(["peer:0,peer:1", " peer:4 ", "peer:1"])] == [
        "peer:0", "peer:1", "peer:4"]


@pytest.mark.parametrize("text, message", [
    ("bot:2", "unknown rival profile 'bot:2'"),
    ("peer:-1", "whole number of rivals >= 0"),
    ("peer:1.5", "whole number of rivals >= 0"),
    ("peer", "whole number of rivals >= 0"),
])
def test_a_bad_rival_level_is_one_clear_usage_error(text: str, message: str) -> None:
    with pytest.raises(SimulationError, match=message) as caught:
        parse_rivals([text])
    assert caught.value.exit_code == 2


def test_peers_spread_over_the_sub_halls_the_first_at_x1_a() -> None:
    assert Rivals("peer", 1).aims(2) == (1, 0)
    assert Rivals("peer", 2).aims(2) == (1, 1)
    assert Rivals("peer", 3).aims(2) == (2, 1)
    assert Rivals("peer", 4).aims(2) == (2, 2)


def race(*peers: tuple[float, str | None]) -> HallRace:
    return HallRace(SUBS, [(t, i, sub) for i, (t, sub) in enumerate(peers)], dict.fromkeys(SUBS))


def test_the_first_request_to_arrive_takes_the_hall_and_refused_peers_fall_back() -> None:
    hall = race((0.05, "X1 A"), (0.09, "X1 A"))
    refs = iter(["ours"])
    hall.resolve([(0.04, 0, "X1 A")], lambda i: next(refs))
    # Ours landed first on X1 A; both peers were refused there, one takes the free X1 B.
    assert hall.holder == {"X1 A": "ours", "X1 B": "peer-0"}
    assert hall.hungry == [1]
    hall.release("ours")  # a released hall goes at once to the peer still waiting
    assert hall.holder["X1 A"] == "peer-1" and hall.hungry == []


def test_a_later_request_wins_only_a_hall_no_rival_wants() -> None:
    hall = race((0.05, "X1 A"))
    hall.resolve([], lambda i: None)
    assert hall.holder == {"X1 A": "peer-0", "X1 B": None}
    assert hall.take("X1 B", "ours") and not hall.take("X1 A", "again")


def x1_attempt(account: str, sub: str, hour: int, fire_at, role: str = PRIMARY) -> Attempt:
    return Attempt("t", account, "X1", sub, DAY, hour, role, fire_at)


def world(n: int, seed: int = 1) -> World:
    return World(PROFILE, SCENARIO.target, level("medium"), random.Random(seed), Rivals("peer", n))


def test_world_races_a_strike_against_the_peers_of_that_hour() -> None:
    site = world(2)
    unlock = site.unlock("X1", DAY, 11)
    race_11 = site.races[("X1", DAY, 11)]
    race_11.peers = [(0.05, 0, "X1 A"), (0.05, 1, "X1 B")]
    shots = [(x1_attempt("user1", "X1 A", 11, unlock), unlock + timedelta(seconds=0.04)),
             (x1_attempt("user2", "X1 B", 11, unlock, BACKUP), unlock + timedelta(seconds=0.07)),
             (x1_attempt("user3", "X1 A", 11, unlock, BACKUP), unlock + timedelta(seconds=0.03))]
    assert [o.result for o in site.fire(shots)] == [FULL, FULL, WON]
    # Both peers were beaten to X1 A; the one aiming at X1 B got it, the other waits.
    assert race_11.holder["X1 B"] == "peer-1" and race_11.hungry == [0]
    assert site.requests == 3 and site.unlocks == {unlock}


def test_world_without_our_strike_lets_the_peers_take_their_halls() -> None:
    site = world(1)
    unlock = site.unlock("X1", DAY, 12)
    late = x1_attempt("user1", "X1 A", 12, unlock + timedelta(seconds=1))
    assert site.attempt(late, unlock + timedelta(seconds=1.05)).result == FULL
    other = x1_attempt("user1", "X1 B", 12, unlock + timedelta(seconds=1))
    assert site.attempt(other, unlock + timedelta(seconds=1.05)).result == WON


def test_worlds_of_one_seed_meet_the_same_peers() -> None:
    assert world(4, seed=3).races == world(4, seed=3).races
    assert world(4, seed=3).races != world(4, seed=4).races
