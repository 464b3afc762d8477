"""The slot monitor over fakes: after the rush, a freed slot is booked through the one booking
path, a block all or nothing, and a refused password sets its account aside."""

from __future__ import annotations

from base_time import TUESDAY
from snipe.domain.status import TargetState
from snipe.services.strike.engine import Engine
from snipe.services.watch.monitor import SlotMonitor
from unit.services.conftest import X1

INTERVAL = 30.0


def rush_lost(w, target: int, hours: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Rivals took both halls of each hour at its unlock: the engine's strikes all lost."""
    for hour in hours:
        for sub in ("X1 A", "X1 B"):
            w.site.rivals[("X1", sub, TUESDAY, hour)] = w.site.unlock("X1", TUESDAY, hour)


async def after_the_rush(w, target: int) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(w.ctx)
    for _ in range(20):
        report = await engine.wake(target)
        if report.next_wake is None:
            return
        w.clock.advance(max(0.0, (report.next_wake - w.clock.now()).total_seconds()))


def free(w, sub: str, hour: int) -> None:  # type: ignore[no-untyped-def]
    key = ("X1", sub, TUESDAY, hour)
    w.site.rivals.pop(key, None)
    w.site.gone.discard(key)


async def test_a_hall_given_back_after_the_rush_is_booked(w, schedule):
    target = schedule([X1], hours=1, window=("14:00", "15:00"), day=TUESDAY)
    rush_lost(w, target, [14])
    await after_the_rush(w, target)
    assert w.store.targets[target].state == TargetState.FAILED
    monitor = SlotMonitor(w.ctx, interval_s=INTERVAL, budget=8)
    w.clock.advance(600)
    first = await monitor.poll_once(w.clock.now())
    assert first.booked == [] and first.polled == [f"X1 {TUESDAY}"]
    free(w, "X1 B", 14)  # someone cancels
    w.clock.advance(INTERVAL)
    second = await monitor.poll_once(w.clock.now())
    assert second.booked == [f"X1 B {TUESDAY} 14:00 for user1"]
    assert second.completed == ["block"]
    assert w.store.targets[target].state == TargetState.WON
    assert "block_completed" in w.told.kinds
    w.clock.advance(INTERVAL)
    assert (await monitor.poll_once(w.clock.now())).note == "nothing to watch"


async def test_a_block_is_booked_all_or_nothing(w, schedule):
    target = schedule([X1], hours=2, window=("16:00", "18:00"), day=TUESDAY)
    rush_lost(w, target, [16, 17])
    await after_the_rush(w, target)
    monitor = SlotMonitor(w.ctx, interval_s=INTERVAL, budget=8)
    w.clock.advance(600)
    free(w, "X1 A", 16)
    only_one = await monitor.poll_once(w.clock.now())
    assert only_one.booked == [] and w.site.ours() == []  # 17:00 still taken: nothing booked
    free(w, "X1 B", 17)
    w.clock.advance(INTERVAL)
    both = await monitor.poll_once(w.clock.now())
    assert len(both.booked) == 2
    assert sorted(h[4] for h in w.site.ours()) == [16, 17]


async def test_a_refused_password_is_told_once_and_another_account_serves(w, schedule):
    target = schedule([X1], hours=1, window=("14:00", "15:00"), day=TUESDAY)
    rush_lost(w, target, [14])
    await after_the_rush(w, target)
    w.site.passwords["user1"] = "changed"
    w.ctx.drivers.driver.sessions.clear()  # type: ignore[attr-defined]
    monitor = SlotMonitor(w.ctx, interval_s=INTERVAL, budget=8)
    free(w, "X1 A", 14)
    w.clock.advance(600)
    first = await monitor.poll_once(w.clock.now())
    w.clock.advance(INTERVAL)
    await monitor.poll_once(w.clock.now())
    assert first.booked == [f"X1 A {TUESDAY} 14:00 for user2"]
    assert w.told.kinds.count("login_failing") == 1
    assert w.store.accounts["user1"].quarantine is not None
