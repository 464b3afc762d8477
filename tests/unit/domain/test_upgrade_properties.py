"""Invariants of upgrade swaps, over random targets won on whatever the rush left, then random
rounds of freed slots, attempt outcomes and reconciliations: an account never holds two bookings
in one hour or two at one location and day (nor would, were every upgrade attempt to win); a won
target never strikes and never ends with less than it had; whatever it holds beyond its block is
a better block still waiting for the site's confirmation."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from base_time import MONDAY, THURSDAY, local
from snipe.domain.ledger import (
    ERROR,
    FULL,
    LIMIT,
    UNREAD,
    WON,
    HeldBooking,
    Outcome,
    PlanState,
)
from snipe.domain.outlook import target_candidates
from snipe.domain.planner import WON_BLOCK, decide
from snipe.domain.slots import TimeWindow, slot_start
from snipe.domain.targets import Priority, Target
from snipe.domain.upgrade import plan_upgrade, wanted
from snipe.profiles import load_profile

PROFILE = load_profile("x-tudelft")
START = local(MONDAY, 0).astimezone(UTC) - timedelta(days=7)  # before any unlock of THURSDAY
LOWER = ("X3", "Fitness")


@st.composite
def targets(draw) -> tuple[PlanState, dict]:  # type: ignore[no-untyped-def]
    accounts = tuple(f"u{i}" for i in range(draw(st.integers(1, 5))))  # one: no upgrade fits
    length = draw(st.integers(1, 3))
    min_length = draw(st.integers(1, length))
    first = draw(st.integers(9, 15))
    window = TimeWindow(first, first + length + draw(st.integers(0, 2)))
    lower = draw(st.permutations(LOWER))[: draw(st.integers(1, 2))]
    priorities = tuple(
        Priority(rank, loc, (), draw(st.integers(1, len(accounts) + 1)))
        for rank, loc in enumerate(("X1", *lower), start=1))
    target = Target("t", (THURSDAY,), length, window, priorities, min_length)
    # X1 mostly lost in the rush, the rest mostly won: targets end on lower or shorter blocks.
    odds = {"X1": draw(st.sampled_from([0.0, 0.0, 0.2, 0.5])), "X3": 0.8, "Fitness": 0.9}
    return PlanState.start(target, PROFILE, accounts), odds


def rules_hold(bookings) -> None:  # type: ignore[no-untyped-def]
    per_hour = Counter((b.account, b.day, b.hour) for b in bookings)
    per_location = Counter((b.account, b.day, b.location) for b in bookings)
    assert max(per_hour.values(), default=0) <= 1, per_hour
    assert max(per_location.values(), default=0) <= 1, per_location


def secured(state: PlanState):  # type: ignore[no-untyped-def]
    """The merit of the best block wholly held with bookings the site confirmed."""
    sure = {(b.location, b.day, b.hour) for b in state.mine() if b.confirmed}
    return max((c.merit for c in target_candidates(state)
                if all((c.location, c.block.day, h) in sure for h in c.block.hours)), default=None)


def rush(state: PlanState, odds: dict, data) -> tuple[PlanState, object]:  # type: ignore[no-untyped-def]
    now, refs = START, 0
    for _ in range(300):
        decision = decide(state, now, forecast=False)
        for r in decision.releases:
            state = state.after_release(r.booking.ref, r.kind)
        if decision.done:
            return state, decision
        strike = decision.strikes[0]
        for r in strike.releases_before:
            state = state.after_release(r.booking.ref, r.kind)
        now = strike.fire_at
        outcomes = []
        for a in strike.attempts:
            won = data.draw(st.floats(0, 1)) < odds[a.location]
            refs += 1
            outcomes.append(Outcome(a, WON, f"r{refs}") if won else Outcome(a, FULL))
        state = state.recorded(outcomes)
    raise AssertionError("the rush did not end")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=targets(), data=st.data())
def test_upgrades_never_leave_a_won_target_with_less(plan, data) -> None:  # type: ignore[no-untyped-def]
    state, odds = plan
    state, decision = rush(state, odds, data)
    if decision.verdict != WON_BLOCK:
        event("the rush failed")
        return
    state = state.settled(decision.kept.block)
    now, had, refs, upgraded = decision.at, secured(state), 0, False
    for _ in range(data.draw(st.integers(1, 4))):
        now += timedelta(minutes=data.draw(st.integers(1, 240)))
        state = replace(state, seen_free=_freed(state, now, data))
        upgrade = plan_upgrade(state, now)
        if upgrade is not None:
            for a in upgrade.attempts:
                assert (a.location, a.sub_location, a.day, a.hour) in state.seen_free
                assert slot_start(a.day, a.hour, PROFILE.tz) > now
            rules_hold([*state.held, *(HeldBooking(a.account, a.location, a.sub_location, a.day,
                                                   a.hour, "x", "t") for a in upgrade.attempts)])
            outcomes = []
            for a in upgrade.attempts:
                result = data.draw(st.sampled_from([WON, WON, WON, FULL, ERROR, LIMIT, UNREAD]))
                refs += 1
                ref = f"{UNREAD}{refs}" if result == UNREAD else f"u{refs}"
                outcomes.append(Outcome(a, WON, ref) if result in (WON, UNREAD)
                                else Outcome(a, result))
            state = state.recorded(outcomes)
        state = replace(state, seen_free=frozenset())
        if data.draw(st.booleans()):  # a reconciliation reads what was in doubt
            state = state.reconciled(_read_back(state, data))
        d = decide(state, now)
        assert d.verdict == WON_BLOCK and d.strikes == () and d.kept is not None
        for r in d.releases:
            assert r.booking.target == "t"
            state = state.after_release(r.booking.ref, r.kind)
        rules_hold(state.held)
        kept = set(d.kept.bookings)
        assert kept <= set(state.mine())
        extra = set(state.mine()) - kept
        assert not extra or any(not b.confirmed for b in extra)  # a better block in doubt
        state = state.settled(d.kept.block)
        now_held = secured(state)
        assert now_held is not None and now_held >= had  # never less than it had
        upgraded |= now_held > had
        had = now_held
    event("upgraded" if upgraded else "kept its block")


def _freed(state: PlanState, now, data) -> frozenset:  # type: ignore[no-untyped-def]
    """What the lists show free: often every hour of a better block, plus some noise."""
    free = set()
    better = wanted(state, now)
    if better and data.draw(st.integers(0, 2)):
        c = data.draw(st.sampled_from(better))
        subs = [s.name for s in PROFILE.location(c.location).sub_locations] or [None]
        for h in c.block.hours:
            free.add((c.location, data.draw(st.sampled_from(subs)), c.block.day, h))
    for _ in range(data.draw(st.integers(0, 3))):
        loc = data.draw(st.sampled_from([p.location for p in state.target.priorities]))
        subs = [s.name for s in PROFILE.location(loc).sub_locations] or [None]
        free.add((loc, data.draw(st.sampled_from(subs)), THURSDAY,
                  data.draw(st.sampled_from(list(state.target.window.hours)))))
    return frozenset(free)


def _read_back(state: PlanState, data) -> list[HeldBooking]:  # type: ignore[no-untyped-def]
    """The site's answer for bookings in doubt: it holds them (with its own id) or not."""
    held = []
    for b in state.held:
        if b.confirmed:
            held.append(b)
        elif data.draw(st.booleans()):
            held.append(replace(b, ref=b.ref.replace(UNREAD, "site-")))
    return held
