"""The engine over fakes: wake, fire at the unlock, record, release, reconcile, re-plan."""

from __future__ import annotations

from datetime import timedelta

from base_time import THURSDAY
from snipe.domain.status import BookingStatus, LogAction, StrikeStatus, TargetState
from snipe.services.booking.releases import settle_releases
from snipe.services.queries import cancel_strike
from snipe.services.strike.engine import Engine
from unit.services.conftest import X1, run


def held_hours(w, location: str) -> list[int]:  # type: ignore[no-untyped-def]
    return sorted(h[4] for h in w.site.ours() if h[1] == location)


async def test_three_accounts_win_three_consecutive_x1_hours_and_give_back_the_rest(w, schedule):
    target = schedule()
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "won"
    assert held_hours(w, "X1") == [11, 12, 13]
    assert held_hours(w, "X3") == []  # the same-instant fallbacks were given back
    assert len({h[0] for h in w.site.ours()}) == 3
    # Every shot fired at its slot's unlock instant, by the site's clock.
    fired = [s for r in reports for s in r.strikes]
    assert fired and all(s.late_ms is None or s.late_ms == 0.0 for s in fired)
    # Every booking made is kept or released; the log says so.
    made = [e for e in w.store.log if e.action == LogAction.SUCCESS]
    released = [e for e in w.store.log if e.action == LogAction.RELEASE]
    kept = [b for b in w.store.bookings.values() if b.status == BookingStatus.CONFIRMED]
    assert len(made) == len(kept) + len(released) and len(kept) == 3
    assert w.told.kinds.count("block_completed") == 1
    assert w.store.targets[target].state == TargetState.WON
    # The live stream saw it happen, in order.
    live = [e.kind for e in w.ctx.events.recent]
    assert live.index("strike_fired") < live.index("booking_won") < live.index("block_completed")
    assert "booking_released" in live


async def test_a_rival_as_fast_as_us_on_x1_a_loses_the_block_nothing(w, schedule):
    target = schedule()
    # Another sniper takes X1 A at each unlock, at the very instant: only parallel attempts on
    # the other hall save the hour.
    for hour in (11, 12, 13):
        w.site.rivals[("X1", "X1 A", THURSDAY, hour)] = w.site.unlock("X1", THURSDAY, hour)
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "won"
    assert sorted((h[2], h[4]) for h in w.site.ours()) == [("X1 B", 11), ("X1 B", 12),
                                                           ("X1 B", 13)]


async def test_a_release_the_site_refuses_is_kept_and_done_later(w, schedule):
    target = schedule()
    engine = Engine(w.ctx)
    # Two hours: their surplus is given back at once.
    await run(engine, w, target, until=w.site.unlock("X1", THURSDAY, 13) - timedelta(minutes=5))
    w.site.refuse_cancels = 50  # then the site is down for every cancel
    reports = await run(engine, w, target)
    assert reports[-1].verdict == "won"
    with w.ctx.reader() as uow:
        owed = uow.releases.owed()
    assert owed, "the fallbacks won along the way are owed back"
    assert held_hours(w, "X3"), "still held: the site refused to cancel them"
    # The site is back: the next round gives everything back, and nothing is owed any more.
    w.site.refuse_cancels = 0
    w.clock.advance(3600)
    report = await settle_releases(w.ctx)
    assert report.owed == 0 and len(report.released) == len(owed)
    assert held_hours(w, "X3") == [] and held_hours(w, "X1") == [11, 12, 13]
    assert all(b.status != BookingStatus.PENDING for b in w.store.bookings.values())


async def test_a_refused_password_sets_the_account_aside_and_others_serve(w, schedule):
    w.site.passwords["user1"] = "changed on the site"
    target = schedule([X1], hours=2, window=("11:00", "13:00"))
    engine = Engine(w.ctx)
    reports = await run(engine, w, target)
    assert reports[-1].verdict == "won"
    assert w.store.accounts["user1"].quarantine is not None
    assert w.told.kinds.count("login_failing") == 1
    logins_of_user1 = [r for r in w.site.requests if r == "login"]
    assert len(logins_of_user1) == 3  # user1 once (refused), user2 and user3 once each
    assert {h[0] for h in w.site.ours()} == {"user2", "user3"}


async def test_a_short_outage_at_the_unlock_does_not_end_the_target(w, schedule):
    target = schedule([X1], hours=1, window=("11:00", "12:00"))
    engine = Engine(w.ctx)
    unlock = w.site.unlock("X1", THURSDAY, 11)
    w.clock.advance((unlock - w.clock.now()).total_seconds() - 600)
    assert (await engine.wake(target)).strikes == []  # logged in, clock read, ready
    w.site.down_until = unlock + timedelta(seconds=5)
    reports = await run(engine, w, target)
    assert reports[-1].verdict == "won"
    assert held_hours(w, "X1") == [11]
    causes = [e.message for e in w.store.log if e.action == LogAction.FAILURE]
    assert any("site unreachable" in c for c in causes)  # truthfully recorded


async def test_a_booking_whose_answer_was_lost_is_adopted_not_made_again(w, schedule):
    target = schedule([X1], hours=1, window=("11:00", "12:00"))
    engine = Engine(w.ctx)
    await run(engine, w, target)
    [(participation, held)] = list(w.site.held.items())
    # As after a crash between the site's answer and its record: the claim is pending.
    [booking] = [b for b in w.store.bookings.values() if b.status.active]
    w.store.bookings[booking.id] = booking.__class__(**{**booking.__dict__,
                                                        "status": BookingStatus.PENDING,
                                                        "reference": None})
    w.store.targets[target].state = TargetState.ACTIVE
    fresh = Engine(w.ctx)  # a restart
    await fresh.wake(target)
    assert len(w.site.held) == 1  # nothing booked twice
    adopted = w.store.bookings[booking.id]
    assert adopted.status == BookingStatus.CONFIRMED and adopted.reference == str(participation)
    assert any("adopted" in (e.message or "") for e in w.store.log)


async def test_a_cancelled_strike_stays_cancelled(w, schedule):
    target = schedule([X1], hours=3, window=("11:00", "15:00"))
    with w.ctx.uow() as uow:
        [row] = [s for s in uow.strikes.of_target(target) if s.slot_start.hour == 11]
        cancel_strike(uow, row.id)  # type: ignore[arg-type]
        uow.commit()
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "won"
    assert held_hours(w, "X1") == [12, 13, 14]  # the block moved past the cancelled hour
    assert w.store.strikes[row.id].status == StrikeStatus.CANCELLED  # type: ignore[index]


async def test_the_lead_covers_the_logins_a_strike_needs(w, schedule):
    target = schedule([X1], hours=1, window=("11:00", "12:00"))
    engine = Engine(w.ctx, lead_s=60)
    report = await engine.wake(target)
    unlock = w.site.unlock("X1", THURSDAY, 11)
    driver = w.ctx.drivers.of(None)  # type: ignore[arg-type]
    driver.sessions.clear()  # the day's sessions will have expired by the strike
    driver.login_estimate_s = lambda creds: 400.0  # type: ignore[method-assign]
    report = await engine.wake(target)
    # Three logins, two at a time, of 400 s each, plus a margin: it wakes that much earlier.
    assert report.next_wake is not None
    lead = (unlock - report.next_wake).total_seconds()
    assert lead >= 2 * 400


async def test_slots_listed_before_their_unlock_are_struck_from_a_prepared_request(w, schedule):
    driver = w.ctx.drivers.of(None)  # type: ignore[arg-type]
    driver.lists_early = True
    target = schedule()
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "won"
    assert driver.resolved, "resolved at the wake, before the instant"
    first = [s for s in driver.struck if s[5] is not None]
    assert first and all(s[5][0] == s[0] for s in first)  # each its own account's request
    # One fair-use budget per account per unlock: attempts of an account share it.
    owners: dict[int, set[str]] = {}
    for s in driver.struck:
        owners.setdefault(id(s[6]), set()).add(s[0])
    assert all(len(accounts) == 1 for accounts in owners.values())


async def test_slots_not_listed_yet_are_looked_up_at_the_instant(w, schedule):
    driver = w.ctx.drivers.of(None)  # type: ignore[arg-type]
    target = schedule([X1], hours=1, window=("11:00", "12:00"))
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "won"
    assert driver.resolved and all(s[5] is None for s in driver.struck)


async def test_a_waitlist_entry_is_not_a_booking_and_is_left_by_default(w, schedule):
    w.site.waitlist = True
    for sub in ("X1 A", "X1 B"):
        w.site.rivals[("X1", sub, THURSDAY, 11)] = w.site.unlock("X1", THURSDAY, 11)
    target = schedule([X1], hours=1, window=("11:00", "12:00"))
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "failed"
    assert w.site.held == {} and w.site.waitlisted == {}
    causes = [e.message or "" for e in w.store.log if e.action == LogAction.FAILURE]
    assert causes and all("waitlist" in c for c in causes)


async def test_a_waitlist_entry_that_could_not_be_left_is_said(w, schedule):
    w.site.waitlist = True
    w.site.refuse_cancels = 50
    w.site.rivals[("X1", "X1 A", THURSDAY, 11)] = w.site.unlock("X1", THURSDAY, 11)
    w.site.rivals[("X1", "X1 B", THURSDAY, 11)] = w.site.unlock("X1", THURSDAY, 11)
    target = schedule([X1], hours=1, window=("11:00", "12:00"))
    await run(Engine(w.ctx), w, target)
    assert w.site.waitlisted and w.site.held == {}
    assert w.told.kinds.count("release_owed") == len(w.site.waitlisted)


async def test_a_target_may_keep_its_waitlist_entries(w, schedule):
    w.site.waitlist = True
    w.site.rivals[("X1", "X1 A", THURSDAY, 11)] = w.site.unlock("X1", THURSDAY, 11)
    w.site.rivals[("X1", "X1 B", THURSDAY, 11)] = w.site.unlock("X1", THURSDAY, 11)
    target = schedule([X1], hours=1, window=("11:00", "12:00"), waitlist="keep")
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "failed"  # an entry is never counted as won
    assert w.site.waitlisted and w.site.held == {}
    assert "release_owed" not in w.told.kinds


async def test_targets_of_one_instant_record_once_every_strike_of_it_has_fired(w, schedule):
    import asyncio

    one_hour = {"hours": 1, "window": ("11:00", "12:00")}
    a = schedule([{"rank": 1, "location": "X1", "sub_locations": ["X1 A"], "max_accounts": 1}],
                 name="a", accounts=["user1"], **one_hour)
    b = schedule([{"rank": 1, "location": "X3", "sub_locations": ["X3 A"], "max_accounts": 1}],
                 name="b", accounts=["user2"], **one_hour)
    unlock = w.site.unlock("X1", THURSDAY, 11)
    assert unlock == w.site.unlock("X3", THURSDAY, 11)
    w.clock.advance((unlock - w.clock.now()).total_seconds() - 30)
    driver = w.ctx.drivers.of(None)  # type: ignore[arg-type]
    strike, gate, waiting = driver.strike, asyncio.Event(), asyncio.Event()

    async def slow_for_user2(creds, *args, **kwargs):  # type: ignore[no-untyped-def]
        if creds.account == "user2":  # b's answer is still on its way
            waiting.set()
            await gate.wait()
        return await strike(creds, *args, **kwargs)

    driver.strike = slow_for_user2
    engine = Engine(w.ctx)
    wakes = asyncio.gather(engine.wake(a), engine.wake(b))
    await waiting.wait()
    for _ in range(100):  # every step a recorded strike would take, and more
        await asyncio.sleep(0)
    assert [h[0] for h in w.site.ours()] == ["user1"]  # a fired and won on the site...
    assert not any(e.action == LogAction.SUCCESS for e in w.store.log)  # ...not recorded yet
    gate.set()
    reports = await wakes
    assert [r.verdict for r in reports] == ["won", "won"]
    assert sorted(e.account for e in w.store.log if e.action == LogAction.SUCCESS) == [
        "user1", "user2"]


async def test_a_warm_up_that_failed_once_is_tried_again_and_the_account_strikes(w, schedule):
    target = schedule()
    driver = w.ctx.drivers.of(None)  # type: ignore[arg-type]
    # The first warm-up of user3 meets a site that dropped its connection: user3 still fires.
    driver.failing_warms["user3"] = 1
    reports = await run(Engine(w.ctx), w, target)
    assert reports[-1].verdict == "won"
    assert held_hours(w, "X1") == [11, 12, 13]
    assert len({h[0] for h in w.site.ours() if h[1] == "X1"}) == 3
    first = next(r.strikes[0] for r in reports if r.strikes)
    assert all(a.result != "error" for a in first.attempts)


async def test_an_account_whose_site_stays_unreachable_sits_the_strike_out(w, schedule):
    target = schedule()
    driver = w.ctx.drivers.of(None)  # type: ignore[arg-type]
    driver.failing_warms["user3"] = 2  # both tries of the first wake-up fail
    reports = await run(Engine(w.ctx), w, target)
    first = next(r.strikes[0] for r in reports if r.strikes)
    theirs = [a for a in first.attempts if a.attempt.account == "user3"]
    assert theirs and all(a.result == "error" and "cannot reach" in (a.message or "")
                          for a in theirs)
    assert driver.warms.count("user3") >= 2
