"""The daemon against the sandbox on a fast clock, with bots striking about a second late."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from snipe.adapters.db.models import Booking, BookingLog
from snipe.adapters.db.models import Target as TargetRow
from snipe.services.daemon import Daemon

from .conftest import LEAD_S, local_hours, write_target

pytestmark = [pytest.mark.slow, pytest.mark.browser]

X1_X3 = [{"rank": 1, "location": "X1", "max_accounts": 3},
         {"rank": 2, "location": "X3", "max_accounts": 3}]


class Recorder:
    """A notifier that keeps what it is told."""

    def __init__(self) -> None:
        self.events = []

    def send(self, event) -> None:  # type: ignore[no-untyped-def]
        self.events.append(event)


def run_daemon(arena, within_s: float = 40.0, notifier=None):  # type: ignore[no-untyped-def]
    async def go():
        arena.ctx.notifier = notifier or Recorder()
        daemon = Daemon(arena.ctx, lead_s=LEAD_S)
        try:
            return await daemon.run_once(within_s)
        finally:
            await daemon.close()

    return asyncio.run(go())


# Whichever of the real site's plausible behaviours is live, without being told which one.
@pytest.mark.parametrize("sandbox", ["likely", "classic", "laggy"], indirect=True)
def test_wins_three_consecutive_x1_hours_with_three_accounts_and_releases_the_rest(arena):
    write_target(arena, X1_X3)
    told = Recorder()
    reports = run_daemon(arena, notifier=told)
    assert reports[-1].verdict == "won"
    kinds = [e.kind for e in told.events]
    assert kinds.count("block_completed") == 1 and "booking_won" in kinds
    assert not any("pass" in e.message for e in told.events)
    ours = arena.ours()
    assert {b["location"] for b in ours} == {"X1"}
    assert len({b["account"] for b in ours}) == 3
    assert local_hours(ours) == [11, 12, 13]
    with arena.store.reading() as session:
        held = session.scalars(select(Booking).where(Booking.status == "confirmed")).all()
        assert sorted(int(b.booking_reference) for b in held) == sorted(b["id"] for b in ours)
        made = session.scalars(select(BookingLog).where(BookingLog.action == "success")).all()
        released = session.scalars(select(BookingLog).where(BookingLog.action == "release")).all()
        # Every booking made is either kept or released.
        assert len(made) == len(held) + len(released)
        assert all(entry.execution_time_ms is not None for entry in made)
        assert session.scalar(select(TargetRow.state)) == "won"


def test_falls_back_to_x3_when_x1_cannot_be_had(arena):
    for sub in ("X1 A", "X1 B"):
        arena.sandbox.bulk_delete("X1", arena.day, [11, 12, 13], sub_location=sub)
    write_target(arena, X1_X3)
    reports = run_daemon(arena)
    assert reports[-1].verdict == "won"
    ours = arena.ours()
    assert {b["location"] for b in ours} == {"X3"}
    assert local_hours(ours) == [11, 12, 13]
    assert len({b["account"] for b in ours}) == 3
