"""Upgrade swaps against a running sandbox: a target that lost X1 in the rush and was won on X3
is upgraded by the slot monitor once people cancel the whole X1 block: the X1 block is booked
first, the X3 block given back only then. Our clock is a `FixedClock` moved by hand, the
sandbox's is set to it; polls are explicit, nothing waits on time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from base_time import NOW, TUESDAY
from snipe.adapters.db.models import BookingLog, Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.bootstrap import close
from snipe.domain.ledger import FULL, PRIMARY, Attempt
from snipe.sandbox.testing import SandboxHandle
from snipe.services.booking.outcomes import AttemptResult
from snipe.services.booking.path import record
from snipe.services.queries import block_words
from snipe.services.targets.schedule import schedule_file

from .test_slot_monitor import INTERVAL, Setup, take, utc_hour

HOURS = (14, 15, 16)
PRIORITIES = [{"rank": 1, "location": "X1", "sub_locations": ["X1 A", "X1 B"], "max_accounts": 3},
              {"rank": 2, "location": "X3", "sub_locations": ["X3 A", "X3 B"], "max_accounts": 3}]


@pytest.fixture
def us(home: Path) -> Iterator[Setup]:
    setup = Setup(home)
    yield setup
    close(setup.ctx)


def won_on_x3(us: Setup, site: SandboxHandle, **options: Any) -> tuple[int, dict]:
    """Others hold both X1 halls at 14-17; our rush lost every X1 attempt; the slot monitor then
    books X3 14-17, and the target is won on X3. Returns the target id and the others'
    participations by (hall, hour)."""
    theirs = {(sub, h): take(site, sub, TUESDAY, h, bot=f"bot-{sub[-1]}{h}")
              for h in HOURS for sub in ("X1 A", "X1 B")}
    path = us.ctx.settings.home.parent / "bookings.json"
    path.write_text(json.dumps({
        "site": {"profile": "sandbox", "base_url": site.base_url},
        "accounts": [{"netid": f"user{n}", "login": "api", "password": f"pass{n}"}
                     for n in (1, 2, 3)],
        "snipe_config": {"name": "tuesday", "target_date": TUESDAY.isoformat(),
                         "consecutive_hours": 3, "time_window": {"start": "14:00", "end": "17:00"},
                         "priorities": PRIORITIES, **options},
    }))
    path.chmod(0o600)
    schedule_file(us.ctx, path, NOW)
    with us.store.reading() as session:
        target_id = session.scalar(select(TargetRow.id))
    profile = us.ctx.profiles("sandbox", site.base_url)
    lost = [AttemptResult(Attempt("tuesday", f"user{i}", "X1", sub, TUESDAY, h, PRIMARY, NOW),
                          FULL, message="full")
            for i, h in enumerate(HOURS, start=1) for sub in ("X1 A", "X1 B")]
    record(us.ctx, target_id, profile, lost, site_now=NOW)
    with us.store.unit_of_work() as uow:  # the rush is over: its strikes are the past
        uow.session.execute(update(Strike).values(status="failed", executed_at=NOW))
        uow.session.execute(update(TargetRow).values(state="failed"))
        uow.commit()
    return target_id, theirs


async def test_the_x1_block_freed_later_replaces_the_x3_block_won(us, site):
    target_id, theirs = won_on_x3(us, site)
    monitor, clock = us.monitor(budget=12), us.clock
    saved = await monitor.poll_once(clock.now())
    assert sorted(saved.booked) == [f"X3 A {TUESDAY} {h}:00 for user{n}"
                                    for n, h in enumerate(HOURS, start=1)]
    assert mine(site) == [("X3", h) for h in HOURS]
    with us.store.reading() as session:
        assert session.scalar(select(TargetRow.state)) == "won"

    for h in HOURS:  # people cancel: X1 is free again, one hall an hour
        site.cancel(theirs[("X1 B", h)])
    clock.advance(INTERVAL)
    report = await monitor.poll_once(clock.now())
    assert report.polled == [f"X1 {TUESDAY}"]  # a won target reads only what could upgrade it
    assert report.upgraded == [f"tuesday: X3 14:00-17:00 → X1 14:00-17:00 on {TUESDAY}"]
    assert mine(site) == [("X1", h) for h in HOURS]
    assert sorted(b["sub_location"] for b in site.bookings() if b["by"] == "account") == [
        "X1 B"] * 3
    with us.store.reading() as session:
        row = session.scalar(select(TargetRow).where(TargetRow.id == target_id))
        assert row.state == "won"
        assert block_words(row.decision).endswith("upgraded X3 14:00-17:00 → X1 14:00-17:00")
        log = session.scalars(select(BookingLog).order_by(BookingLog.id)).all()
    # Every X1 booking was confirmed before the first X3 booking was given back.
    x1 = [e.id for e in log if e.location == "X1" and e.action == "success"]
    x3_back = [e.id for e in log if e.location == "X3" and e.action == "release"]
    assert len(x1) == 3 and len(x3_back) == 3 and max(x1) < min(x3_back)
    assert all("upgraded X3" in (e.error_message or "") for e in log if e.id in x3_back)

    clock.advance(INTERVAL)
    assert (await monitor.poll_once(clock.now())).note == "nothing to watch"  # X1 is the best


async def test_a_target_that_switched_upgrades_off_keeps_x3(us, site):
    _, theirs = won_on_x3(us, site, upgrade=False)
    monitor, clock = us.monitor(budget=12), us.clock
    await monitor.poll_once(clock.now())
    for h in HOURS:
        site.cancel(theirs[("X1 A", h)])
    clock.advance(INTERVAL)
    report = await monitor.poll_once(clock.now())
    assert report.note == "nothing to watch" and report.requests == 0
    assert mine(site) == [("X3", h) for h in HOURS]


def mine(site: SandboxHandle) -> list[tuple[str, int]]:
    hours = {utc_hour(TUESDAY, h): h for h in HOURS}
    return sorted((b["location"], hours[b["start"][:13]]) for b in site.bookings()
                  if b["by"] == "account")
