"""The slot monitor against a running sandbox: after the rush, a slot someone else cancels is
found and booked within two poll intervals; requests stay within the budget; a 429 backs off.

Our clock is a `FixedClock` moved by hand, the sandbox's is set to it; polls are explicit,
nothing waits on time. The accounts log in by `POST /auth` (no browser in these tests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from base_time import MONDAY, NOW, TUESDAY, WEDNESDAY, local
from snipe.adapters.clock import FixedClock
from snipe.adapters.db.models import Booking, BookingLog, SlotAvailability, Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.notify import AppriseNotifier, NotifySettings
from snipe.bootstrap import bootstrap, close
from snipe.errors import ConfigError
from snipe.sandbox.testing import SandboxHandle
from snipe.services.targets.schedule import schedule_file
from snipe.services.watch.monitor import SlotMonitor
from snipe.settings import Settings

# X1 of TUESDAY unlocked 72 h ahead: open since Saturday, before NOW (Sunday 10:00).
INTERVAL = 30.0
X1 = {"rank": 1, "location": "X1", "sub_locations": ["X1 A", "X1 B"], "max_accounts": 3}


def utc_hour(day: date, hour: int) -> str:
    """How the sandbox writes the start of the local `hour` of `day` (UTC, to the hour)."""
    return local(day, hour).astimezone(NOW.tzinfo).strftime("%Y-%m-%dT%H")


class Setup:
    """Our side of a test: the services' context over a store in the data dir, our clock."""

    def __init__(self, home: Path, notifier: Any = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.clock = FixedClock(NOW)
        options = {} if transport is None else {"transport": transport}
        self.ctx = bootstrap(Settings(home=home), clock=self.clock, notifier=notifier,
                             **options)
        self.store = self.ctx.extras["store"]

    def monitor(self, budget: int = 8) -> SlotMonitor:
        return SlotMonitor(self.ctx, interval_s=INTERVAL, budget=budget)


@pytest.fixture
def ours(home: Path) -> Iterator[Any]:
    made: list[Setup] = []

    def make(site: SandboxHandle, targets: list[dict], passwords: dict[str, str] | None = None,
             **options: Any) -> Setup:
        us = Setup(home, **options)
        made.append(us)
        schedule(us, site, targets, passwords=passwords)
        return us

    yield make
    for us in made:
        close(us.ctx)


def target(name: str, day: date, start: str, end: str, hours: int,
           priorities: list[dict]) -> dict:
    return {"name": name, "target_date": day.isoformat(), "consecutive_hours": hours,
            "time_window": {"start": start, "end": end}, "priorities": priorities}


def schedule(us: Setup, site: SandboxHandle, targets: list[dict], accounts: int = 3,
             passwords: dict[str, str] | None = None) -> None:
    """Schedule `targets`, then play the rush as over: every strike fired, none won."""
    path = us.ctx.settings.home.parent / "bookings.json"
    path.write_text(json.dumps({
        "site": {"profile": "sandbox", "base_url": site.base_url},
        "accounts": [{"netid": f"user{n}", "login": "api",
                      "password": (passwords or {}).get(f"user{n}", f"pass{n}")}
                     for n in range(1, accounts + 1)],
        "snipe_configs": targets,
    }))
    path.chmod(0o600)
    schedule_file(us.ctx, path, NOW)
    with us.store.unit_of_work() as uow:
        uow.session.execute(update(Strike).values(status="failed", executed_at=NOW))
        uow.session.execute(update(TargetRow).values(state="failed"))
        uow.commit()


def take(site: SandboxHandle, sub: str, day: date, hour: int, bot: str = "bot1") -> int:
    """Someone else books the slot; returns their participation id."""
    [booking_id] = site.bulk_create("X1", day, [hour], sub_location=sub)
    return site.book_as(bot, booking_id)["id"]


class Counting(httpx.AsyncBaseTransport):
    """The real transport, counting what reaches the network."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_slot_cancelled_after_the_rush_is_booked_within_two_polls(ours, site, endpoint):
    notifier = AppriseNotifier(NotifySettings((endpoint.url(),)))
    us = ours(site, [target("tuesday-x1", TUESDAY, "14:00", "15:00", 1, [X1])],
              notifier=notifier)
    take(site, "X1 A", TUESDAY, 14)
    freed = take(site, "X1 B", TUESDAY, 14, bot="bot2")
    monitor, clock = us.monitor(), us.clock

    first = await monitor.poll_once(clock.now())
    assert first.polled == [f"X1 {TUESDAY}"] and first.booked == [] and first.free == 0
    with us.store.reading() as session:
        cached = session.scalars(select(SlotAvailability).where(
            SlotAvailability.booking_date == TUESDAY, SlotAvailability.time_slot == "14:00")).all()
    assert {(r.sub_location, r.is_available) for r in cached} == {("X1 A", False), ("X1 B", False)}

    site.cancel(freed)  # someone gives the hall back
    clock.advance(INTERVAL)
    second = await monitor.poll_once(clock.now())
    [booked] = second.booked
    who = booked.rsplit(" ", 1)[-1]
    assert booked == f"X1 B {TUESDAY} 14:00 for {who}" and who.startswith("user")
    assert second.completed == ["tuesday-x1"]

    mine = [b for b in site.bookings() if b["account"] == who]
    assert [(b["sub_location"], b["start"][:13]) for b in mine] == [
        ("X1 B", utc_hour(TUESDAY, 14))]
    with us.store.reading() as session:
        row = session.scalar(select(Booking).where(Booking.status == "confirmed"))
        logged = session.scalar(select(BookingLog).where(BookingLog.action == "success"))
        state = session.scalar(select(TargetRow.state))
    assert row.booking_reference == str(mine[0]["id"]) and row.target_id is not None
    assert logged.execution_time_ms and logged.execution_time_ms > 0
    assert state == "won"
    kinds = [m["title"] for m in endpoint.received]
    assert kinds == ["snipe: booking won", "snipe: block completed"]
    assert f"X1 {TUESDAY} 14:00 booked for {who}" in endpoint.received[0]["message"]

    clock.advance(INTERVAL)
    third = await monitor.poll_once(clock.now())
    assert third.requests == 0 and third.note == "nothing to watch"  # won: stop watching


async def test_a_block_is_booked_all_or_nothing(ours, site):
    us = ours(site, [target("two-hours", TUESDAY, "16:00", "18:00", 2, [X1])])
    for hour in (16, 17):
        take(site, "X1 A", TUESDAY, hour, bot=f"bot-a{hour}")
        take(site, "X1 B", TUESDAY, hour, bot=f"bot-b{hour}")
    monitor, clock = us.monitor(), us.clock
    await monitor.poll_once(clock.now())
    site.cancel([b for b in site.bookings() if b["sub_location"] == "X1 A"
                 and b["start"].startswith(utc_hour(TUESDAY, 16))][0]["id"])
    clock.advance(INTERVAL)
    only_one = await monitor.poll_once(clock.now())
    assert only_one.booked == [] and only_one.free == 0  # 17:00 still taken: nothing booked

    site.cancel([b for b in site.bookings() if b["sub_location"] == "X1 B"
                 and b["start"].startswith(utc_hour(TUESDAY, 17))][0]["id"])
    clock.advance(INTERVAL)
    both = await monitor.poll_once(clock.now())
    assert sorted(both.booked) == [f"X1 A {TUESDAY} 16:00 for user1",
                                   f"X1 B {TUESDAY} 17:00 for user2"]
    held = sorted((b["account"], b["start"][:13]) for b in site.bookings()
                  if b["account"].startswith("user"))
    assert held == [("user1", utc_hour(TUESDAY, 16)), ("user2", utc_hour(TUESDAY, 17))]


async def test_requests_never_exceed_the_budget(ours, site):
    counting = Counting()
    us = ours(site, [
        target("a", TUESDAY, "10:00", "12:00", 1, [X1]),
        target("b", WEDNESDAY, "10:00", "12:00", 1,
               [{"rank": 1, "location": "X3", "max_accounts": 2},
                {"rank": 2, "location": "X1", "max_accounts": 2}]),
        target("c", MONDAY, "18:00", "20:00", 1, [X1]),
    ], transport=counting)
    # Three targets over three days and two locations: more lists to read than the budget allows.
    monitor, clock = us.monitor(budget=3), us.clock
    spent, lists = [], []
    for _ in range(3):
        before = len(counting.sent)
        report = await monitor.poll_once(clock.now())
        spent.append(len(counting.sent) - before)
        lists += report.polled
        assert spent[-1] == report.requests
        clock.advance(INTERVAL)
    assert all(n <= 3 for n in spent)
    # One list a round (half the budget), the one read longest ago: every list the monitor
    # may watch comes round (Wednesday's unlocked just now: the rush owns it).
    assert set(lists) == {f"X1 {TUESDAY}", f"X1 {MONDAY}"} and len(lists) == 3


class TooMany(httpx.AsyncBaseTransport):
    """A site that answers every request with 429."""

    def __init__(self, retry_after: str = "60") -> None:
        self.retry_after = retry_after
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return httpx.Response(429, headers={"Retry-After": self.retry_after},
                              json={"code": "rate_limited", "message": "slow down"})


async def test_429_backs_off_and_doubles(ours, site):
    too_many = TooMany()
    us = ours(site, [target("tuesday-x1", TUESDAY, "14:00", "15:00", 1, [X1])],
              transport=too_many)
    monitor, clock = us.monitor(), us.clock

    first = await monitor.poll_once(clock.now())
    assert too_many.sent == 1 and first.backoff_until == NOW + timedelta(seconds=60)
    clock.advance(45)
    waiting = await monitor.poll_once(clock.now())
    assert too_many.sent == 1 and waiting.requests == 0 and "backing off" in waiting.note
    assert monitor.next_delay(clock.now()) == pytest.approx(15)
    clock.advance(16)
    again = await monitor.poll_once(clock.now())
    assert too_many.sent == 2 and again.backoff_until == clock.now() + timedelta(seconds=120)


async def test_run_polls_until_stopped(ours, site):
    us = ours(site, [target("tuesday-x1", TUESDAY, "14:00", "15:00", 1, [X1])])
    stop = asyncio.Event()
    monitor = us.monitor()
    rounds: list[datetime] = []
    real = monitor.poll_once

    async def counted(now: datetime):  # type: ignore[no-untyped-def]
        rounds.append(now)
        report = await real(now)
        stop.set()  # the daemon shutting down after the first round
        return report

    monitor.poll_once = counted  # type: ignore[method-assign]
    await asyncio.wait_for(monitor.run(stop), timeout=20)
    assert rounds == [NOW]


def test_interval_and_budget_are_bounded(ctx):
    with pytest.raises(ConfigError, match="fair-use floor"):
        SlotMonitor(ctx, interval_s=1)
    with pytest.raises(ConfigError, match="at least 1"):
        SlotMonitor(ctx, budget=0)


async def test_a_refused_login_is_told_once_and_another_account_serves(ours, site, endpoint):
    us = ours(site, [target("tuesday-x1", TUESDAY, "14:00", "15:00", 1, [X1])],
              passwords={"user1": "not-the-password"},
              notifier=AppriseNotifier(NotifySettings((endpoint.url(),))))
    monitor, clock = us.monitor(), us.clock
    first = await monitor.poll_once(clock.now())
    clock.advance(INTERVAL)
    await monitor.poll_once(clock.now())
    assert first.polled == [f"X1 {TUESDAY}"]  # user2 read the list ...
    [booked] = first.booked  # ... and booked a free hall
    assert booked.startswith("X1 ") and booked.endswith(f"{TUESDAY} 14:00 for user2")
    assert [m["title"] for m in endpoint.received] == [
        "snipe: login failing", "snipe: booking won", "snipe: block completed"]
    message = endpoint.received[0]["message"]
    assert "user1" in message and "not-the-password" not in message
