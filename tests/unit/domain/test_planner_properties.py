"""Invariants of the planner, driven through random outcome sequences to the end of a target:
an account never holds two bookings in one hour or two at one location and day (nor would, were
every attempt of a strike to win); an accepted block is whole; every surplus is released; no
account sends more requests per unlock instant than the fair-use budget."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from snipe.domain.ledger import RESULTS, WON, HeldBooking, Outcome, PlanState
from snipe.domain.planner import FAILED, WON_BLOCK, decide
from snipe.domain.rules import Allowances, Holding
from snipe.domain.scoring import ClockRange, Preferences
from snipe.domain.slots import TimeWindow, slot_start, unlock_instant
from snipe.domain.targets import INSURANCE_POLICIES, Priority, Target
from snipe.profiles import load_profile

PROFILE = load_profile("x-tudelft")
DAY = date(2026, 11, 26)
START = datetime(2026, 11, 17, tzinfo=UTC)  # before any unlock of DAY
LOCATIONS = ("X1", "X3", "Fitness")


@st.composite
def plans(draw):
    accounts = tuple(f"u{i}" for i in range(draw(st.integers(1, 5))))
    length = draw(st.integers(1, 3))
    min_length = draw(st.integers(1, length))
    first = draw(st.integers(9, 15))
    window = TimeWindow(first, first + length + draw(st.integers(0, 3)))
    chosen = draw(st.permutations(LOCATIONS))[: draw(st.integers(1, 3))]
    priorities = tuple(
        Priority(rank, loc, (), draw(st.integers(1, len(accounts) + 1)))
        for rank, loc in enumerate(chosen, start=1)
    )
    days = (DAY,) if draw(st.booleans()) else (DAY, DAY + timedelta(days=1))
    prefs = None
    if draw(st.booleans()):  # a flexible target ranked by W_C score
        hour = draw(st.integers(first, window.end_hour - 1))
        prefs = Preferences(days[0], days[-1], preferred_times=(
            ClockRange(time(hour), time(hour + 1)),))
    insurance = draw(st.sampled_from(INSURANCE_POLICIES))
    target = Target("t", days, length, window, priorities, min_length, preferences=prefs,
                    insurance=insurance)
    # Bookings of another target limit what the accounts may still book.
    allow = Allowances(PROFILE.rules)
    others = []
    for n in range(draw(st.integers(0, 4))):
        h = Holding(draw(st.sampled_from(accounts)), draw(st.sampled_from(days)),
                    draw(st.integers(first, window.end_hour)), draw(st.sampled_from(LOCATIONS)))
        if allow.allows(h.account, h.day, h.hour, h.location):
            allow.take(h)
            others.append(HeldBooking(h.account, h.location, None, h.day, h.hour, f"o{n}", "other"))
    profile = PROFILE
    if draw(st.integers(0, 4)) == 0:  # a site where a cancelled booking still counts
        profile = replace(PROFILE, rules=replace(PROFILE.rules, cancel_restores_allowance=False))
    if draw(st.booleans()):  # a tight fair-use budget
        profile = replace(profile, max_requests_per_unlock_per_account=draw(st.integers(1, 3)))
    # Start before any unlock, or late, when some slots are already open (or past).
    start = START + timedelta(hours=draw(st.sampled_from([0, 0, 150, 200, 215])))
    return PlanState.start(target, profile, accounts, others), start


def assert_rules_hold(held: tuple[HeldBooking, ...]) -> None:
    per_hour = Counter((b.account, b.day, b.hour) for b in held)
    per_location = Counter((b.account, b.day, b.location) for b in held)
    assert max(per_hour.values(), default=0) <= 1, per_hour
    assert max(per_location.values(), default=0) <= 1, per_location


def assert_accepted_block(kept: tuple[HeldBooking, ...], target: Target) -> None:
    assert len({(b.location, b.day) for b in kept}) == 1
    hours = sorted(b.hour for b in kept)
    assert hours == list(range(hours[0], hours[0] + len(hours)))
    assert target.accepts(len(hours))
    assert all(h in target.window.hours for h in hours)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans(), data=st.data())
def test_random_outcomes_keep_every_invariant(plan: tuple[PlanState, datetime], data) -> None:
    (state, now), refs = plan, 0
    for _ in range(300):
        decision = decide(state, now, forecast=False)
        for r in decision.releases:
            assert r.booking.target == "t"
            state = state.after_release(r.booking.ref, r.kind)
        assert_rules_hold(state.held)
        if decision.done:
            break
        strike = decision.strikes[0]
        assert strike.attempts, "a strike always has an attempt"
        assert strike.fire_at >= now
        for r in strike.releases_before:
            state = state.after_release(r.booking.ref, r.kind)
        now = strike.fire_at
        # Were every attempt to win, the rules would still hold.
        as_if_won = state.held + tuple(
            HeldBooking(a.account, a.location, a.sub_location, a.day, a.hour, "x", "t")
            for a in strike.attempts
        )
        assert_rules_hold(as_if_won)
        outcomes = []
        for a in strike.attempts:
            result = data.draw(st.sampled_from(RESULTS + (WON, WON)))
            refs += 1
            outcomes.append(Outcome(a, result, f"r{refs}" if result == WON else None))
        state = state.recorded(outcomes)
        assert_rules_hold(state.held)
    else:
        raise AssertionError("the plan did not end")

    target = state.target
    budget = state.profile.max_requests_per_unlock_per_account
    per_unlock = Counter(
        (o.attempt.account, unlock_instant(slot_start(o.attempt.day, o.attempt.hour, PROFILE.tz),
                                           PROFILE.location(o.attempt.location).window))
        for o in state.outcomes)
    assert max(per_unlock.values(), default=0) <= budget
    attempted = {}
    for o in state.outcomes:
        attempted.setdefault(o.attempt.location, set()).add(o.attempt.account)
    for p in target.priorities:
        assert len(attempted.get(p.location, ())) <= p.max_accounts

    kept = state.mine()
    event(f"verdict {decision.verdict}, {len(state.outcomes)} attempts")
    if decision.verdict == WON_BLOCK:
        assert decision.kept is not None
        assert set(kept) == set(decision.kept.bookings)
        assert_accepted_block(kept, target)
    else:
        assert decision.verdict == FAILED
        assert kept == ()
    released = {r.booking.ref for r in state.released}
    for b in state.made():
        assert b.ref in released or b in kept
    assert {b.ref for b in state.held if b.target == "other"} == {
        b.ref for b in state.held if b.ref.startswith("o")}
