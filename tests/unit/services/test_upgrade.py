"""Upgrade swaps over fakes: a target won on X3 after losing X1 in the rush books the X1 block
when cancellations free all of it, through the one booking path, and gives X3 back only then; a
partial upgrade is rolled back; upgrades can be switched off; the poll's budget bounds them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from base_time import TUESDAY
from snipe.domain.decision import Decision
from snipe.domain.status import BookingStatus, TargetState
from snipe.services.queries import block_words
from snipe.services.watch.monitor import SlotMonitor
from unit.services.conftest import X1, X3
from unit.services.test_monitor import after_the_rush, free, rush_lost

INTERVAL = 30.0
HOURS = [11, 12, 13]


async def won_on_x3(w, schedule, **extra: Any) -> int:  # type: ignore[no-untyped-def]
    target = schedule([X1, X3], hours=3, window=("11:00", "14:00"), day=TUESDAY, **extra)
    rush_lost(w, target, HOURS)
    await after_the_rush(w, target)
    record = w.store.targets[target]
    assert record.state == TargetState.WON
    assert Decision.from_dict(record.decision).kept.block.location == "X3"
    assert sorted(h[1] for h in w.site.ours()) == ["X3"] * 3
    return target


def held_on_site(w) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return sorted((h[1], h[4]) for h in w.site.ours())


async def test_the_x1_block_freed_after_the_rush_replaces_the_x3_block_won(w, schedule):
    target = await won_on_x3(w, schedule)
    monitor = SlotMonitor(w.ctx, interval_s=INTERVAL, budget=12)
    w.clock.advance(600)
    first = await monitor.poll_once(w.clock.now())
    assert first.polled == [f"X1 {TUESDAY}"] and first.booked == []  # only X1 is worth reading
    for hour in HOURS:
        free(w, "X1 A" if hour != 12 else "X1 B", hour)  # people cancel
    w.clock.advance(INTERVAL)
    report = await monitor.poll_once(w.clock.now())
    assert len(report.booked) == 3 and report.failed == []
    assert report.upgraded == [f"block: X3 11:00-14:00 → X1 11:00-14:00 on {TUESDAY}"]
    assert held_on_site(w) == [("X1", 11), ("X1", 12), ("X1", 13)]
    record = w.store.targets[target]
    assert record.state == TargetState.WON
    assert block_words(record.decision).endswith("; upgraded X3 11:00-14:00 → X1 11:00-14:00")
    # Each account holds one X1 hour and nothing else that day.
    assert sorted(h[0] for h in w.site.ours()) == ["user1", "user2", "user3"]
    released = [b for b in w.store.bookings.values() if b.status == BookingStatus.RELEASED]
    assert sorted((b.location, b.hour.hour) for b in released) == [("X3", 11), ("X3", 12),
                                                                  ("X3", 13)]
    told = [e.message for e in w.told.events if e.kind == "block_completed"]
    assert any("upgraded X3 11:00-14:00 → X1 11:00-14:00" in m for m in told)
    w.clock.advance(INTERVAL)
    assert (await monitor.poll_once(w.clock.now())).note == "nothing to watch"


async def test_an_upgrade_that_loses_an_hour_is_rolled_back_and_x3_kept(w, schedule):
    target = await won_on_x3(w, schedule)
    monitor = SlotMonitor(w.ctx, interval_s=INTERVAL, budget=12)
    for hour in (11, 12):
        free(w, "X1 A", hour)
    # The list shows 13:00 free, but someone books it before we do.
    stale_list(w, ("X1", "X1 A", TUESDAY, 13))
    w.clock.advance(600)
    report = await monitor.poll_once(w.clock.now())
    assert len(report.booked) == 2 and len(report.failed) == 1 and report.upgraded == []
    assert held_on_site(w) == [("X3", 11), ("X3", 12), ("X3", 13)]
    record = w.store.targets[target]
    assert record.state == TargetState.WON
    assert Decision.from_dict(record.decision).kept.block.location == "X3"
    undone = [b for b in w.store.bookings.values() if b.status == BookingStatus.RELEASED]
    assert sorted((b.location, b.hour.hour) for b in undone) == [("X1", 11), ("X1", 12)]


async def test_a_target_with_upgrades_off_is_not_watched_once_won(w, schedule):
    await won_on_x3(w, schedule, upgrade=False)
    for hour in HOURS:
        free(w, "X1 A", hour)
    monitor = SlotMonitor(w.ctx, interval_s=INTERVAL, budget=12)
    w.clock.advance(600)
    report = await monitor.poll_once(w.clock.now())
    assert report.note == "nothing to watch" and report.requests == 0
    assert held_on_site(w) == [("X3", 11), ("X3", 12), ("X3", 13)]


async def test_an_upgrade_the_poll_cannot_pay_for_waits(w, schedule):
    await won_on_x3(w, schedule)
    for hour in HOURS:
        free(w, "X1 A", hour)
    monitor = SlotMonitor(w.ctx, interval_s=INTERVAL, budget=2)  # three bookings, three releases
    w.clock.advance(600)
    report = await monitor.poll_once(w.clock.now())
    assert report.booked == [] and "budget too small" in report.note
    assert held_on_site(w) == [("X3", 11), ("X3", 12), ("X3", 13)]


def stale_list(w, key: tuple) -> None:  # type: ignore[no-untyped-def]
    """The driver's slot list shows `key` free although a rival holds it."""
    driver = w.ctx.drivers.driver
    real = driver.list_slots
    tz = w.site.profile.tz

    async def listed(*args: Any, **kw: Any) -> Any:
        slots = await real(*args, **kw)
        return [replace(s, is_available=True) if (
            s.location, s.sub_location, s.start.astimezone(tz).date(),
            s.start.astimezone(tz).hour) == key else s for s in slots]

    driver.list_slots = listed
