"""The daemon against a `peer` bot as fast as it is: the peer reaches the server at the very
instant of each X1 unlock and always takes X1 A, so the block is won by the parallel attempts
on X1 B, hour after hour. The peer's latency is 0 in sandbox time and peer arrivals are served
in sandbox-time order, so the outcome does not depend on how fast this machine is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import select

from snipe.adapters.db.models import Booking, BookingLog
from snipe.adapters.db.models import Target as TargetRow
from snipe.sandbox.testing import running_sandbox

from .conftest import AMS, REAL_SPEED, local_hours, write_target
from .test_end_to_end import run_daemon

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SEED_PRIORITIES = [{"rank": 1, "location": "X1", "sub_locations": ["X1 A", "X1 B"],
                    "max_accounts": 3},
                   {"rank": 2, "location": "X3", "max_accounts": 2}]


def local(iso_utc: str) -> datetime:
    return datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(AMS)


@pytest.fixture(scope="module", params=["likely", "laggy"])
def sandbox(request: pytest.FixtureRequest) -> Iterator:
    """One peer on X1 A, at latency 0, in the likely real site and in one that releases late."""
    with running_sandbox(accounts=4, bots="peer:1:A:0ms", seed=7, rate_limit=0,
                         real_speed=REAL_SPEED, variant=request.param) as sb:
        yield sb


def test_parallel_attempts_on_x1_b_win_the_block_against_a_peer_on_x1_a(arena):
    write_target(arena, SEED_PRIORITIES)
    reports = run_daemon(arena)
    assert reports[-1].verdict == "won"

    state = arena.sandbox.state()
    ours = arena.ours()
    assert [(b["location"], b["sub_location"]) for b in ours] == [("X1", "X1 B")] * 3
    assert local_hours(ours) == [11, 12, 13]
    assert len({b["account"] for b in ours}) == 3
    peer_halls = [b for b in state["bookings"] if b["by"] == "bot"
                  and local(b["start"]).date() == arena.day and 11 <= local(b["start"]).hour < 14]
    assert [(b["account"], b["sub_location"]) for b in peer_halls] == [
        ("peer1-11", "X1 A"), ("peer1-12", "X1 A"), ("peer1-13", "X1 A")]
    # The peer was there first at each instant: every attempt of ours on X1 A found it full.
    with arena.store.reading() as session:
        log = session.scalars(select(BookingLog)).all()
        on_a = [e for e in log if e.sub_location == "X1 A" and e.action in ("success", "failure")]
        assert on_a and all(e.action == "failure" for e in on_a)
        held = session.scalars(select(Booking).where(Booking.status == "confirmed")).all()
        assert sorted(int(b.booking_reference) for b in held) == sorted(b["id"] for b in ours)
        made = [e for e in log if e.action == "success"]
        released = [e for e in log if e.action == "release"]
        # Everything else we won (same-instant fallbacks at X3) was given back.
        assert len(made) == len(held) + len(released)
        assert all(e.location == "X3" for e in released)
        assert session.scalar(select(TargetRow.state)) == "won"
    assert not [b for b in ours if b["location"] != "X1"]
