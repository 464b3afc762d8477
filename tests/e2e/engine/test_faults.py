"""Faults and a kill at the unlocks: whatever the site answered and however the daemon died,
the run ends with the site and the store in agreement, nothing held beyond the accepted block,
the target truthfully finished, and no account over its request budget at any unlock."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from snipe.profiles import load_profile

from .conftest import LEAD_S, local_hours, write_target
from .test_daemon_process import db_rows, start, until

pytestmark = [pytest.mark.slow, pytest.mark.browser]

X1_X3 = [{"rank": 1, "location": "X1", "max_accounts": 3},
         {"rank": 2, "location": "X3", "max_accounts": 3}]
STRIKE_WINDOW = timedelta(seconds=60)  # site time after an unlock its strike may take


def requests_per_account_and_unlock(arena, unlocks: list[datetime]) -> Counter:
    counts: Counter = Counter()
    for r in arena.sandbox.requests():
        at = datetime.fromisoformat(r["at"].replace("Z", "+00:00"))
        for unlock in unlocks:
            if r["account"] and unlock <= at < unlock + STRIKE_WINDOW:
                counts[(r["account"], unlock)] += 1
    return counts


def test_faults_and_a_kill_at_the_unlocks_leave_nothing_held_lost_or_over_budget(arena):
    sandbox = arena.sandbox
    write_target(arena, X1_X3, go_in_s=9.0)
    unlocks = [arena.first_unlock + timedelta(hours=h) for h in range(3)]
    victim = start(arena.home, "--once", "--within", "1", "--lead", str(LEAD_S))
    try:
        # As the first unlock comes the site fails: bookings answer 500, slot lists garbage.
        until(lambda: sandbox.now() >= unlocks[0] - timedelta(seconds=1.5), 90,
              "the first unlock to be near")
        sandbox.faults("error500", "/api/participations", count=4)
        sandbox.faults("garbage", "/api/bookable-slots", count=2)
        # The daemon dies in the middle of the second unlock, whatever it had done.
        until(lambda: sandbox.now() >= unlocks[1] + timedelta(seconds=0.3), 90,
              "the second unlock")
        victim.kill()
    finally:
        victim.kill()
        victim.wait(timeout=30)
    survivor = start(arena.home, "--once", "--within", "1", "--lead", str(LEAD_S))
    out, _ = survivor.communicate(timeout=180)
    assert survivor.returncode == 0, out

    ours = arena.ours()
    table = db_rows(arena.home, "SELECT id, account_id, location, sub_location, time_slot, "
                                "status, booking_reference FROM bookings")
    # Nothing booked twice; the store holds exactly what the site holds, nothing in doubt.
    assert len({(b["account"], b["start"]) for b in ours}) == len(ours)
    confirmed = db_rows(arena.home, "SELECT booking_reference FROM bookings "
                                    "WHERE status = 'confirmed'")
    assert sorted(int(r[0]) for r in confirmed) == sorted(b["id"] for b in ours), (table, ours)
    assert db_rows(arena.home, "SELECT id FROM bookings WHERE status = 'pending'") == []
    assert db_rows(arena.home, "SELECT id FROM releases WHERE done_at IS NULL") == []
    # The target finished truthfully, holding its accepted block and nothing else.
    [(state,)] = db_rows(arena.home, "SELECT state FROM targets")
    assert state in ("won", "failed"), out
    if state == "won":
        assert len({b["location"] for b in ours}) == 1, (table, ours)
        assert local_hours(ours) == [11, 12, 13], (table, ours)
    else:
        assert ours == []
    # Fair use at every unlock, faults and restart included.
    budget = load_profile("sandbox").max_requests_per_unlock_per_account
    counts = requests_per_account_and_unlock(arena, unlocks)
    assert counts and max(counts.values()) <= budget, counts
