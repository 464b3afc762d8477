"""The planner's behaviours, one scenario each (seed 000 section 5 and DESIGN.md Strategy)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from snipe.domain.ledger import (
    BACKUP,
    FALLBACK,
    FULL,
    INSURANCE,
    LIMIT,
    MAX_TRIES_PER_SLOT,
    NOT_OPEN,
    PRIMARY,
    WON,
    Attempt,
    HeldBooking,
    Outcome,
    PlanError,
    PlanState,
)
from snipe.domain.narrate import explain
from snipe.domain.planner import (
    FAILED,
    IN_PROGRESS,
    INSURANCE_DONE,
    ORPHAN,
    SUPERSEDED,
    SURPLUS,
    UNBLOCK,
    WON_BLOCK,
    Decision,
    decide,
)
from snipe.domain.scoring import ClockRange, Preferences
from snipe.domain.slots import TimeWindow
from snipe.domain.targets import KEEP, OFF, YIELD, Priority, Target
from snipe.errors import SnipeError
from snipe.profiles import load_profile

PROFILE = load_profile("x-tudelft")
TZ = PROFILE.tz
THURSDAY = date(2026, 11, 26)
EARLY = datetime(2026, 11, 17, tzinfo=UTC)  # before any unlock for THURSDAY
X1 = Priority(1, "X1", ("X1 A", "X1 B"), 3)
X3 = Priority(2, "X3", ("X3 A", "X3 B"), 2)
FITNESS = Priority(3, "Fitness", (), 3)
USERS = ("user1", "user2", "user3")


WINDOW = TimeWindow(11, 18)


def target(*priorities: Priority, length: int = 3, min_length: int | None = None,
           window: TimeWindow = WINDOW, days=(THURSDAY,), **kw) -> Target:
    return Target("thursday", tuple(days), length, window, priorities,
                  length if min_length is None else min_length, **kw)


def unlock(day: date, hour: int, hours_ahead: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC) - timedelta(
        hours=hours_ahead)


def held(account: str, location: str, hour: int, ref: str, sub: str | None = None,
         day: date = THURSDAY, of: str = "thursday") -> HeldBooking:
    return HeldBooking(account, location, sub, day, hour, ref, of)


Answer = Callable[[Attempt], str]


def play(state: PlanState, now: datetime, answer: Answer, steps: int = 100
         ) -> tuple[PlanState, Decision, list[Decision]]:
    """Run the plan to its end against `answer`, as the engine would."""
    seen: list[Decision] = []
    refs = 0
    for _ in range(steps):
        decision = decide(state, now, forecast=False)
        seen.append(decision)
        for r in decision.releases:
            state = state.after_release(r.booking.ref, r.kind)
        if decision.done:
            return state, decision, seen
        strike = decision.strikes[0]
        for r in strike.releases_before:
            state = state.after_release(r.booking.ref, r.kind)
        now = strike.fire_at
        outcomes = []
        for a in strike.attempts:
            result = answer(a)
            refs += 1
            outcomes.append(Outcome(a, result, f"r{refs}" if result == WON else None))
        state = state.recorded(outcomes)
    raise AssertionError("plan did not end")


def everything(result: str) -> Answer:
    return lambda a: result


# -- instants -----------------------------------------------------------------------------------

def test_first_strike_fires_at_the_unlock_instant_not_a_second_later() -> None:
    state = PlanState.start(target(X1), PROFILE, USERS)
    strike = decide(state, EARLY).strikes[0]
    assert strike.fire_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 CET, 72 h ahead
    assert {(a.day, a.hour) for a in strike.attempts} == {(THURSDAY, 11)}


def test_unlock_instants_are_dst_safe() -> None:
    # Summer time starts on 2026-03-29: a 11:00 CEST slot on Monday the 30th unlocks 72 h
    # earlier in absolute time, at 10:00 CET local on Friday.
    monday = date(2026, 3, 30)
    state = PlanState.start(target(X1, FITNESS, days=(monday,), insurance=YIELD), PROFILE, USERS)
    d = decide(state, datetime(2026, 3, 20, tzinfo=UTC))
    fitness, x1 = d.strikes[0], next(s for s in d.strikes if s.attempts[0].location == "X1")
    assert fitness.fire_at == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    assert x1.fire_at == datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    assert x1.fire_at.astimezone(TZ).hour == 10


def test_slots_already_open_fire_now() -> None:
    now = unlock(THURSDAY, 14, 72) + timedelta(minutes=5)
    state = PlanState.start(target(X1), PROFILE, USERS)
    strike = decide(state, now).strikes[0]
    assert strike.fire_at == now
    assert {a.hour for a in strike.attempts} == {11, 12, 13}
    assert len({a.account for a in strike.attempts}) == 3


def test_forecast_follows_the_next_strike_in_firing_order() -> None:
    t = target(X1, X3, FITNESS, min_length=2, insurance=YIELD)
    d = decide(PlanState.start(t, PROFILE, USERS), EARLY)
    instants = [s.fire_at for s in d.strikes]
    assert d.wake_at == instants[0] == unlock(THURSDAY, 11, 168)
    assert instants == sorted(set(instants)) and len(instants) == 6
    assert all(s.attempts[0].role == INSURANCE for s in d.strikes[:3])
    assert all(s.attempts[0].location == "X1" for s in d.strikes[3:])
    assert len({s.id for s in d.strikes}) == 6


def test_naive_now_is_refused_with_one_clear_error() -> None:
    state = PlanState.start(target(X1), PROFILE, USERS)
    with pytest.raises(SnipeError, match="no timezone"):
        decide(state, datetime(2026, 11, 17))


# -- divide and conquer -------------------------------------------------------------------------

def test_spreads_a_strike_over_sub_locations_and_accounts() -> None:
    # Every account that can help fires at once: X1 A with two accounts, X1 B with one.
    strike = decide(PlanState.start(target(X1), PROFILE, USERS), EARLY).strikes[0]
    assert [(a.account, a.sub_location, a.role) for a in strike.attempts] == [
        ("user1", "X1 A", PRIMARY), ("user2", "X1 B", BACKUP), ("user3", "X1 A", BACKUP)]


def test_surplus_win_is_released_at_once() -> None:
    state = PlanState.start(target(X1), PROFILE, USERS)
    strike = decide(state, EARLY).strikes[0]
    # Both halls won; the second account on X1 A found it taken by the first.
    state = state.recorded(Outcome(a, WON, f"r{i}") if i < 2 else Outcome(a, FULL)
                           for i, a in enumerate(strike.attempts))
    d = decide(state, strike.fire_at)
    assert [(r.kind, r.booking.account) for r in d.releases] == [(SURPLUS, "user2")]
    state = state.after_release(d.releases[0].booking.ref, SURPLUS)
    # The released account is free for X1 again at the next hour.
    assert "user2" in {a.account for a in decide(state, strike.fire_at).strikes[0].attempts}


def test_surplus_keeps_the_win_of_the_least_flexible_account() -> None:
    insurance = held("user2", "Fitness", 12, "f12")  # user2 cannot serve X1 at 12:00
    state = PlanState.start(target(X1, FITNESS), PROFILE, USERS, [insurance])
    wins = [held("user1", "X1", 11, "a11", "X1 A"), held("user2", "X1", 11, "b11", "X1 B")]
    d = decide(state.reconciled([insurance, *wins]), unlock(THURSDAY, 11, 72))
    assert [(r.kind, r.booking.ref) for r in d.releases] == [(SURPLUS, "a11")]


def test_three_accounts_win_three_consecutive_x1_hours() -> None:
    state, d, _ = play(PlanState.start(target(X1), PROFILE, USERS), EARLY, everything(WON))
    assert d.verdict == WON_BLOCK and d.kept is not None
    assert (d.kept.block.location, d.kept.block.start_hour, d.kept.block.length) == ("X1", 11, 3)
    assert len({b.account for b in d.kept.bookings}) == 3
    assert set(state.mine()) == set(d.kept.bookings)


def test_falls_back_to_x3_at_the_same_instant_with_other_accounts() -> None:
    accounts = ("user1", "user2", "user3", "user4")
    state = PlanState.start(target(X1, X3, min_length=2), PROFILE, accounts)
    strike = decide(state, EARLY).strikes[0]
    by_location: dict[str, set[str]] = {}
    for a in strike.attempts:
        by_location.setdefault(a.location, set()).add(a.account)
    assert set(by_location) == {"X1", "X3"}
    assert not by_location["X1"] & by_location["X3"]
    assert {a.role for a in strike.attempts if a.location == "X3"} == {FALLBACK}


def test_x3_block_is_kept_when_x1_is_full() -> None:
    t = target(X1, Priority(2, "X3", ("X3 A", "X3 B"), 3))
    state, d, _ = play(PlanState.start(t, PROFILE, USERS), EARLY,
                       lambda a: FULL if a.location == "X1" else WON)
    assert d.verdict == WON_BLOCK and d.kept is not None
    assert (d.kept.block.location, d.kept.block.length) == ("X3", 3)
    assert all(b.location == "X3" for b in state.mine())


def test_seed_example_falls_back_to_x3_when_x1_is_impossible() -> None:
    # X3 allows 2 accounts, so 2 hours (accept_2_consecutive_hours); an X3 block still beats the
    # 3 Fitness hours held as insurance, which are released.
    t = target(X1, X3, FITNESS, min_length=2, fallback_strategy="accept_2_consecutive_hours",
               insurance=YIELD)
    state, d, _ = play(PlanState.start(t, PROFILE, USERS), EARLY,
                       lambda a: FULL if a.location == "X1" else WON)
    assert d.verdict == WON_BLOCK and d.kept is not None
    assert (d.kept.block.location, d.kept.block.length) == ("X3", 2)
    assert {r.booking.location for r in state.released if r.kind == INSURANCE_DONE} == {"Fitness"}
    assert all(b.location == "X3" for b in state.mine())


def test_two_x1_hours_beat_three_x3_hours_when_two_are_accepted() -> None:
    t = target(X1, Priority(2, "X3", ("X3 A", "X3 B"), 3), min_length=2)
    state, d, _ = play(PlanState.start(t, PROFILE, USERS), EARLY,
                       lambda a: FULL if a.location == "X1" and a.hour >= 13 else WON)
    assert d.kept is not None
    assert (d.kept.block.location, d.kept.block.length) == ("X1", 2)


def test_lower_ranked_win_is_released_when_the_preferred_block_is_won() -> None:
    t = target(X1, X3, min_length=2)
    mine = [held(u, "X1", h, f"x1-{h}", "X1 A") for u, h in zip(USERS, (11, 12, 13), strict=True)]
    mine.append(held("user2", "X3", 11, "x3-11", "X3 A"))
    d = decide(PlanState.start(t, PROFILE, USERS, mine), unlock(THURSDAY, 13, 72))
    assert d.verdict == WON_BLOCK
    assert [(r.kind, r.booking.ref) for r in d.releases] == [(SUPERSEDED, "x3-11")]


def test_orphan_is_released_when_its_block_cannot_be_completed() -> None:
    state = PlanState.start(target(X1), PROFILE, USERS)
    first = decide(state, EARLY).strikes[0]
    state = state.recorded([Outcome(first.attempts[0], WON, "r11"), Outcome(first.attempts[1], FULL)])
    second = decide(state, first.fire_at).strikes[0]
    state = state.recorded(Outcome(a, FULL) for a in second.attempts)
    d = decide(state, second.fire_at)
    assert [(r.kind, r.booking.ref) for r in d.releases] == [(ORPHAN, "r11")]
    assert d.aims[0].block.start_hour == 13


def test_accepts_two_hours_when_strategy_allows() -> None:
    t = target(X1, min_length=2, fallback_strategy="accept_2_consecutive_hours")
    state, d, _ = play(PlanState.start(t, PROFILE, USERS), EARLY,
                       lambda a: FULL if a.hour >= 13 else WON)
    assert d.verdict == WON_BLOCK and d.kept is not None
    assert (d.kept.block.start_hour, d.kept.block.length) == (11, 2)
    assert sorted(b.hour for b in state.mine()) == [11, 12]


def test_all_or_nothing_keeps_nothing_when_the_block_fails() -> None:
    state, d, _ = play(PlanState.start(target(X1), PROFILE, USERS), EARLY,
                       lambda a: FULL if a.hour in (13, 16) else WON)
    assert d.verdict == FAILED and d.kept is None
    assert state.mine() == ()
    assert {b.ref for b in state.made()} <= {r.booking.ref for r in state.released}


def test_never_more_accounts_per_priority_than_max_accounts() -> None:
    accounts = ("u1", "u2", "u3", "u4", "u5")
    t = target(Priority(1, "X1", ("X1 A", "X1 B"), 2), length=2)
    state, _, _ = play(PlanState.start(t, PROFILE, accounts), EARLY,
                       lambda a: FULL if a.sub_location == "X1 A" else NOT_OPEN)
    assert len({o.attempt.account for o in state.outcomes}) <= 2


# -- insurance ----------------------------------------------------------------------------------

def test_insurance_is_booked_when_fitness_unlocks_168_hours_ahead() -> None:
    t = target(X1, X3, FITNESS, insurance=YIELD)
    strike = decide(PlanState.start(t, PROFILE, USERS), EARLY).strikes[0]
    assert strike.fire_at == unlock(THURSDAY, 11, 168)
    assert [(a.location, a.role) for a in strike.attempts] == [("Fitness", INSURANCE)]


def test_insurance_is_released_once_the_preferred_block_is_won() -> None:
    mine = [held(u, "Fitness", h, f"f{h}") for u, h in zip(USERS, (11, 12, 13), strict=True)]
    mine += [held(u, "X1", h, f"x{h}", "X1 A") for u, h in zip(USERS, (12, 13, 11), strict=True)]
    d = decide(PlanState.start(target(X1, FITNESS), PROFILE, USERS, mine), unlock(THURSDAY, 13, 72))
    assert d.verdict == WON_BLOCK
    assert sorted((r.kind, r.booking.ref) for r in d.releases) == [
        (INSURANCE_DONE, "f11"), (INSURANCE_DONE, "f12"), (INSURANCE_DONE, "f13")]


def test_insurance_is_released_before_it_blocks_an_hour() -> None:
    t = target(X1, FITNESS, length=1, window=TimeWindow(11, 12))
    state = PlanState.start(t, PROFILE, ("user1",), [held("user1", "Fitness", 11, "f11")])
    day_before = unlock(THURSDAY, 11, 72) - timedelta(days=1)
    d = decide(state, day_before)
    assert d.releases == ()  # not yet: the insurance is kept until the strike needs the hour
    strike = d.strikes[0]
    assert strike.fire_at == unlock(THURSDAY, 11, 72)
    assert [(r.kind, r.booking.ref) for r in strike.releases_before] == [(UNBLOCK, "f11")]
    assert [(a.account, a.location, a.role) for a in strike.attempts] == [("user1", "X1", PRIMARY)]


def test_insurance_is_kept_when_x1_fails() -> None:
    state, d, _ = play(PlanState.start(target(X1, X3, FITNESS), PROFILE, USERS), EARLY,
                       lambda a: WON if a.location == "Fitness" else FULL)
    assert d.verdict == WON_BLOCK and d.kept is not None
    assert (d.kept.block.location, d.kept.block.length) == ("Fitness", 3)


# -- re-planning from real outcomes -------------------------------------------------------------

def test_not_open_is_retried_now_then_given_up() -> None:
    t = target(Priority(1, "X1", ("X1 A",), 3), length=1, window=TimeWindow(11, 12))
    state, d, seen = play(PlanState.start(t, PROFILE, USERS), EARLY, everything(NOT_OPEN))
    fired = [x.strikes[0].fire_at for x in seen if x.strikes]
    assert len(fired) == MAX_TRIES_PER_SLOT
    assert fired[1] == fired[0] == unlock(THURSDAY, 11, 72)
    assert d.verdict == FAILED


def test_limit_refusal_stops_asking_that_account() -> None:
    t = target(Priority(1, "X1", ("X1 A",), 3), length=1, window=TimeWindow(11, 13))
    state = PlanState.start(t, PROFILE, ("user1", "user2"))
    first = decide(state, EARLY).strikes[0]
    state = state.recorded([Outcome(first.attempts[0], LIMIT)])
    retry = decide(state, first.fire_at).strikes[0]
    assert retry.fire_at == first.fire_at
    assert [a.account for a in retry.attempts] == ["user2"]


def test_a_booking_found_on_the_site_is_never_made_twice() -> None:
    state = PlanState.start(target(X1), PROFILE, USERS)
    # After a crash the outcome was lost, but the site shows user1's 11:00 booking.
    state = state.reconciled([held("user1", "X1", 11, "site-1", "X1 A")])
    strike = decide(state, unlock(THURSDAY, 11, 72)).strikes[0]
    assert all(a.hour != 11 for a in strike.attempts)
    assert "user1" not in {a.account for a in strike.attempts}


def test_bookings_of_other_targets_limit_the_accounts() -> None:
    busy_hour = held("user1", "Fitness", 11, "other-1", of="another")
    strike = decide(PlanState.start(target(X1), PROFILE, USERS, [busy_hour]), EARLY).strikes[0]
    assert strike.attempts and "user1" not in {a.account for a in strike.attempts}
    # With user1's X1 allowance used by another target, two accounts cannot hold 3 X1 hours.
    busy_location = held("user1", "X1", 15, "other-2", "X1 B", of="another")
    d = decide(PlanState.start(target(X1), PROFILE, USERS, [busy_location]), EARLY)
    assert d.verdict == FAILED and d.releases == ()


def test_flexible_target_goes_for_the_best_scored_block() -> None:
    friday = THURSDAY + timedelta(days=1)
    prefs = Preferences(THURSDAY, friday, preferred_times=(ClockRange.parse("17:00-19:00"),),
                        avoid_times=(ClockRange.parse("11:00-13:00"),))
    t = target(X1, length=2, window=TimeWindow(11, 20), days=(THURSDAY, friday), preferences=prefs)
    d = decide(PlanState.start(t, PROFILE, USERS), EARLY)
    aim = d.aims[0].block
    assert (aim.day, aim.start_hour) == (THURSDAY, 16)
    assert d.aims[0].score > 0


# -- persistence and words ----------------------------------------------------------------------

def test_state_and_decision_round_trip_through_json() -> None:
    friday = THURSDAY + timedelta(days=1)
    prefs = Preferences(THURSDAY, friday, preferred_times=(ClockRange.parse("17:00-19:00"),))
    t = target(X1, X3, FITNESS, min_length=2, days=(THURSDAY, friday), preferences=prefs,
               fallback_strategy="accept_2_consecutive_hours")
    state = PlanState.start(t, PROFILE, USERS)
    strike = decide(state, EARLY).strikes[0]
    state = state.recorded([Outcome(strike.attempts[0], WON, "r1")]).after_release("r1", SURPLUS)
    state = state.recorded([Outcome(strike.attempts[0], FULL)])
    again = PlanState.from_dict(json.loads(json.dumps(state.to_dict())), PROFILE)
    assert again == state
    d = decide(state, EARLY)
    assert Decision.from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_malformed_state_is_one_clear_error() -> None:
    with pytest.raises(PlanError, match="malformed"):
        PlanState.from_dict({"target": {"name": "x"}}, PROFILE)
    with pytest.raises(PlanError, match="profile"):
        PlanState.from_dict({"profile": "sandbox"}, PROFILE)


def test_explain_tells_aims_roles_and_instants() -> None:
    t = target(X1, X3, FITNESS, min_length=2, insurance=YIELD)
    text = "\n".join(explain(decide(PlanState.start(t, PROFILE, USERS), EARLY), TZ))
    assert "in progress" in text
    assert "X1 on 2026-11-26 11:00-14:00 (3 h) as primary" in text
    assert "insurance" in text and "Fitness 2026-11-26 11:00" in text
    assert "Mon 2026-11-23 11:00:00 CET (2026-11-23 10:00:00 UTC)" in text


def test_explain_tells_what_was_won() -> None:
    state, d, _ = play(PlanState.start(target(X1), PROFILE, USERS), EARLY, everything(WON))
    assert d.verdict == WON_BLOCK
    assert explain(d)[0].startswith("thursday: won X1 on 2026-11-26 11:00-14:00 (3 h)")
    assert IN_PROGRESS not in explain(d)[0]


# -- parallel attempts and insurance policies ---------------------------------------------------

SEED_TARGET = dict(min_length=2, fallback_strategy="accept_2_consecutive_hours")


def test_seed_example_strikes_x1_a_with_two_accounts_and_x1_b_with_one() -> None:
    t = target(X1, X3, FITNESS, **SEED_TARGET)
    strike = decide(PlanState.start(t, PROFILE, USERS), EARLY).strikes[0]
    assert strike.fire_at == unlock(THURSDAY, 11, 72)
    assert sorted((a.sub_location, a.account) for a in strike.attempts) == [
        ("X1 A", "user1"), ("X1 A", "user3"), ("X1 B", "user2")]
    assert [a.role for a in strike.attempts].count(PRIMARY) == 1


def test_a_lone_attempt_goes_to_the_sub_hall_rivals_took_least() -> None:
    t = target(X1, X3, FITNESS, **SEED_TARGET)
    state, d, seen = play(PlanState.start(t, PROFILE, USERS), EARLY,
                          lambda a: FULL if a.sub_location == "X1 A" else WON)
    lone = [s.attempts for x in seen for s in x.strikes[:1]
            if [a.location for a in s.attempts] == ["X1"]]
    assert lone and all(a.sub_location == "X1 B" for (a,) in lone)
    assert d.kept is not None and (d.kept.block.location, d.kept.block.length) == ("X1", 3)


def insured(policy: str) -> PlanState:
    t = target(X1, FITNESS, length=1, window=TimeWindow(11, 12), insurance=policy)
    return PlanState.start(t, PROFILE, USERS, [held("user1", "Fitness", 11, "f11")])


def test_yielding_insurance_gives_way_to_a_parallel_attempt() -> None:
    strike = decide(insured(YIELD), EARLY).strikes[0]
    assert strike.fire_at == unlock(THURSDAY, 11, 72)
    assert [(r.kind, r.booking.ref) for r in strike.releases_before] == [(UNBLOCK, "f11")]
    assert {a.account for a in strike.attempts} == set(USERS)
    i = next(i for i, a in enumerate(strike.attempts) if a.account == "user1")
    assert "gives way just before" in (strike.why(i) or "")


def test_kept_insurance_stays_and_its_account_sits_the_strike_out() -> None:
    strike = decide(insured(KEEP), EARLY).strikes[0]
    assert strike.releases_before == ()
    assert sorted((a.account, a.sub_location) for a in strike.attempts) == [
        ("user2", "X1 A"), ("user3", "X1 B")]


def test_insurance_off_books_fitness_only_once_x1_has_failed() -> None:
    t = target(X1, FITNESS, insurance=OFF)
    d = decide(PlanState.start(t, PROFILE, USERS), EARLY)
    assert d.strikes[0].fire_at == unlock(THURSDAY, 11, 72)
    assert INSURANCE not in {a.role for s in d.strikes for a in s.attempts}
    assert "Fitness" not in {aim.block.location for aim in d.aims}
    state, d, seen = play(PlanState.start(t, PROFILE, USERS), EARLY,
                          lambda a: FULL if a.location == "X1" else WON)
    first_fitness = min(o.attempt.fire_at for o in state.outcomes if o.attempt.location == "Fitness")
    # X1 is given up once 15:00, the last start of a 3-hour block in the window, is lost.
    assert first_fitness >= unlock(THURSDAY, 15, 72)
    assert d.kept is not None and (d.kept.block.location, d.kept.block.length) == ("Fitness", 3)


def test_a_large_location_gets_one_attempt_per_hour() -> None:
    t = target(FITNESS, length=2, window=TimeWindow(11, 13))
    strike = decide(PlanState.start(t, PROFILE, USERS), EARLY).strikes[0]
    assert [(a.hour, a.location) for a in strike.attempts] == [(11, "Fitness")]


def test_fair_use_budget_caps_the_requests_of_an_account_per_unlock() -> None:
    profile = replace(PROFILE, max_requests_per_unlock_per_account=2)
    t = target(Priority(1, "X1", ("X1 A",), 3), length=1, window=TimeWindow(11, 12))
    state, d, _ = play(PlanState.start(t, profile, USERS), EARLY, everything(NOT_OPEN))
    sent = Counter(o.attempt.account for o in state.outcomes)
    assert d.verdict == FAILED and set(sent.values()) == {2}


def test_explain_says_why_each_account_goes_where_it_goes() -> None:
    t = target(X1, X3, FITNESS, **SEED_TARGET)
    text = "\n".join(explain(decide(PlanState.start(t, PROFILE, USERS), EARLY), TZ))
    assert ("user3 -> X1 A 2026-11-26 11:00 (parallel, second account on X1 A: against a rival "
            "as fast as us a single attempt is a coin toss)") in text
    assert "user2 -> X1 B 2026-11-26 11:00 (parallel, covers X1 B" in text
    assert "(primary, lone attempt: no other account may book X1 at 13:00" in text
    assert "same-instant fallback, with an account the primary cannot use" in text


def test_an_unknown_insurance_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown insurance policy 'sometimes'"):
        target(X1, insurance="sometimes")
    data = PlanState.start(target(X1, insurance=KEEP), PROFILE, USERS).to_dict()
    assert PlanState.from_dict(data, PROFILE).target.insurance == KEEP
    data["target"]["insurance"] = "sometimes"
    with pytest.raises(PlanError, match="malformed"):
        PlanState.from_dict(data, PROFILE)
