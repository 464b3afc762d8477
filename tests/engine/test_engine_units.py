"""Engine pieces without a site: the timed shot, refusal mapping, missed strikes, weekly roll."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from snipe.adapters.db.models import Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.db.store import Store
from snipe.adapters.sites.errors import LimitReached, SiteUnavailable, SlotFull, SlotNotOpen
from snipe.domain.ledger import ERROR, FULL, LIMIT, NOT_OPEN, PlanState, target_from_dict
from snipe.services.daemon import mark_missed, roll_weekly
from snipe.services.engine import result_of
from snipe.services.shot import shoot_at


class FakeTime:
    """A clock that only moves when slept on or read (each read costs 0.1 ms of spinning)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.naps: list[float] = []

    def now(self) -> float:
        self.t += 0.0001
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.t += seconds + 0.0012  # the event loop wakes a little late


def test_the_shot_naps_then_spins_and_lands_just_after_the_deadline():
    clock = FakeTime()
    late_ms = asyncio.run(shoot_at(1090.0, now=clock.now, sleep=clock.sleep))
    assert clock.t >= 1090.0
    assert 0 <= late_ms < 0.5
    assert all(nap <= 30.0 for nap in clock.naps)  # long waits re-check the clock
    assert len(clock.naps) >= 3


def test_a_shot_already_late_fires_at_once_and_says_how_late():
    clock = FakeTime()
    late_ms = asyncio.run(shoot_at(999.0, now=clock.now, sleep=clock.sleep))
    assert clock.naps == []
    assert late_ms > 999


def test_refusals_map_to_the_planners_results():
    assert result_of(SlotFull("x")) == FULL
    assert result_of(LimitReached("x", rule="hour")) == LIMIT
    assert result_of(SlotNotOpen("x")) == NOT_OPEN
    assert result_of(SiteUnavailable("x")) == ERROR


def scheduled_target(store: Store, snipe, bookings) -> TargetRow:  # type: ignore[no-untyped-def]
    assert snipe("schedule", str(bookings)).code == 0
    with store.reading() as session:
        return session.scalars(select(TargetRow).order_by(TargetRow.id)).first()


def test_strikes_whose_instant_passed_unattended_are_marked_missed(snipe, bookings, home):
    store = Store.open(None)
    scheduled_target(store, snipe, bookings)
    later = datetime(2026, 11, 24, tzinfo=UTC)
    missed = mark_missed(store, later)
    assert missed and all(s.scheduled_execution < later for s in missed)
    assert {s.location for s in missed} == {"X1", "X3"}  # unlocks on Mon 23 Nov
    with store.reading() as session:
        rows = [s for s in session.scalars(select(Strike))
                if s.scheduled_execution < later - timedelta(minutes=2)]
    # Fitness was already open when planned: it missed no unlock and stays for the engine.
    assert {s.status for s in rows if s.location != "Fitness"} == {"missed"}
    assert {s.status for s in rows if s.location == "Fitness"} == {"scheduled"}
    assert mark_missed(store, later) == []  # said once


def test_a_weekly_target_starts_again_the_week_after(snipe, bookings, home):
    store = Store.open(None)
    row = scheduled_target(store, snipe, bookings)
    before = target_from_dict(row.plan_state["target"])
    assert before.days == (date(2026, 11, 26),)
    assert roll_weekly(store, datetime(2026, 11, 25, tzinfo=UTC)) == []  # not over yet
    assert row.id in roll_weekly(store, datetime(2026, 11, 27, tzinfo=UTC))
    with store.reading() as session:
        fresh = session.get(TargetRow, row.id)
        moved = target_from_dict(fresh.plan_state["target"])
        assert moved.days == (date(2026, 12, 3),)
        assert fresh.state == "active"
        assert PlanState.from_dict(fresh.plan_state, _profile(fresh)).outcomes == ()


def _profile(row):  # type: ignore[no-untyped-def]
    from snipe.profiles import load_profile

    return load_profile(row.site_profile, row.site_url)
