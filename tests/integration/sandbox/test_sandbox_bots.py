"""Competing bots: they strike at the unlock, through the same rules as everyone else."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from snipe.profiles import load_profile
from snipe.sandbox.bots import plan_strike
from snipe.sandbox.catalogue import Catalogue
from snipe.sandbox.clock import parse_iso
from snipe.sandbox.store import Store
from snipe.sandbox.testing import SandboxHandle, running_sandbox

from .support import BASE, HALL_WINDOW, local

SEED = 11


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(accounts=2, bots="fast,hall-rush", seed=SEED) as handle:
        yield handle


def wait_for_attempts(sandbox: SandboxHandle, count: int, limit_s: float = 4.0) -> dict:
    """Poll until the bots' `count` attempts have landed (their arrival delay is real time)."""
    deadline = time.monotonic() + limit_s
    while True:
        state = sandbox.state()
        if len(state["bot_attempts"]) >= count or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def test_bots_take_halls_only_after_the_unlock_and_only_within_the_rules(sandbox):
    start = local((BASE + timedelta(days=3)).date(), 18)  # popular hour: bots want it
    unlock = start - HALL_WINDOW
    sandbox.set_clock(now=unlock - timedelta(minutes=10), rate=1.0)
    before = sandbox.state()
    assert before["bookings"] == [] and before["bot_attempts"] == []
    sandbox.set_clock(now=unlock - timedelta(milliseconds=50), rate=1.0)
    catalogue = Catalogue(load_profile("x-tudelft"), Store.open(None))
    plan = plan_strike(catalogue, ("fast", "hall-rush"), SEED, unlock)
    assert plan
    state = wait_for_attempts(sandbox, len(plan))

    attempts = state["bot_attempts"]
    assert len(attempts) == len(plan)
    booked = [b for b in state["bookings"] if b["by"] == "bot"]
    assert booked, "bots won some halls"
    for booking in booked:
        assert parse_iso(booking["created_at"]) >= unlock
        assert parse_iso(booking["start"]) == start
        assert booking["sub_location"] in {"X1 A", "X1 B", "X3 A", "X3 B"}
    assert max(Counter(b["booking_id"] for b in booked).values()) == 1  # capacity 1 held
    per_account_hour = Counter((b["account"], b["start"]) for b in booked)
    assert max(per_account_hour.values()) == 1
    wanted = Counter(a.booking_id for a in plan)
    contested = [bid for bid, n in wanted.items() if n == 2]
    outcomes = {(a["bot"], a["bookingId"]): a["outcome"] for a in attempts}
    for booking_id in contested:  # the fast bot arrives first; hall-rush finds it full
        assert outcomes[("fast", booking_id)] == "booked"
        assert outcomes[("hall-rush", booking_id)] == "full"
    assert {b["booking_id"] for b in booked} == set(wanted)


def test_a_user_at_the_unlock_instant_beats_the_bots(sandbox):
    start = local((BASE + timedelta(days=3)).date(), 19)
    unlock = start - HALL_WINDOW
    [slot] = sandbox.bulk_create("X1", start.date(), [19], sub_location="X1 A")
    sandbox.set_clock(now=unlock, rate=1.0)
    mine = sandbox.book_as("user1", slot)  # within the bots' 10 ms head start
    assert mine["bookingId"] == slot
    state = wait_for_attempts(sandbox, 1)
    holders = [b for b in state["bookings"] if b["booking_id"] == slot]
    assert [h["account"] for h in holders] == ["user1"]
    assert all(a["outcome"] in {"full", "booked"} for a in state["bot_attempts"])
    assert {a["outcome"] for a in state["bot_attempts"] if a["bookingId"] == slot} <= {"full"}
