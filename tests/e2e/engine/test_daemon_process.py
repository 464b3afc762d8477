"""The daemon as a real process: one instance, picks up schedule changes, survives kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import LEAD_S, local_hours, write_target

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SNIPE = [sys.executable, "-m", "snipe"]


def start(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "SNIPE_HOME": str(home)}
    env.pop("SNIPE_NOW", None)
    return subprocess.Popen([*SNIPE, "daemon", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def until(condition, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    """Poll a condition (not the clock) with a bound, as a person watching would."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def db_rows(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "snipe.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_second_daemon_says_so_and_exits_zero_and_changes_are_picked_up(arena):
    first = start(arena.home, "--poll", "0.5", "--lead", str(LEAD_S))
    try:
        until(lambda: (arena.home / "daemon.lock").exists()
              and (arena.home / "daemon.lock").read_text().strip(), 20, "the daemon's lock")
        second = subprocess.run([*SNIPE, "daemon"], env={**os.environ,
                                "SNIPE_HOME": str(arena.home)}, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 0
        assert "already running" in second.stdout
        # A target scheduled while the daemon runs is struck without a restart: the wake-ups
        # go through the scheduler's job store, and the block is won.
        write_target(arena, [{"rank": 1, "location": "X1", "max_accounts": 3}], go_in_s=9.0)
        until(lambda: db_rows(arena.home, "SELECT id FROM targets WHERE state = 'won'"), 40,
              "the block to be won")
        assert local_hours(arena.ours()) == [11, 12, 13]
    finally:
        first.send_signal(signal.SIGTERM)
        out, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out


def x1_hours(arena) -> list[int]:  # type: ignore[no-untyped-def]
    return local_hours([b for b in arena.ours() if b["location"] == "X1"])


def test_kill_9_during_a_strike_then_restart_books_nothing_twice(arena):
    write_target(arena, [{"rank": 1, "location": "X1", "max_accounts": 3},
                         {"rank": 2, "location": "X3", "max_accounts": 3}], go_in_s=9.0)
    victim = start(arena.home, "--once", "--within", "1", "--lead", str(LEAD_S))
    # Killed as the last hour's booking lands, before it is recorded and the surplus released:
    # the restart has nothing left to race for, only what the victim left in doubt.
    until(lambda: x1_hours(arena) == [11, 12, 13], 60, "the last booking of the block")
    victim.kill()  # SIGKILL: no cleanup, no chance to record the strike
    victim.wait(timeout=30)
    survivor = start(arena.home, "--once", "--within", "1", "--lead", str(LEAD_S))
    out, _ = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, out
    ours = arena.ours()
    slots = [(b["account"], b["start"]) for b in ours]
    assert len(slots) == len(set(slots))
    # The store agrees with the site: same bookings, nothing left half-claimed.
    confirmed = db_rows(arena.home, "SELECT booking_reference FROM bookings "
                                    "WHERE status = 'confirmed'")
    assert sorted(int(r[0]) for r in confirmed) == sorted(b["id"] for b in ours), (
        db_rows(arena.home, "SELECT id, account_id, location, sub_location, time_slot, status, "
                            "booking_reference FROM bookings"), ours, out)
    assert db_rows(arena.home, "SELECT id FROM bookings WHERE status = 'pending'") == []
    assert {b["location"] for b in ours} == {"X1"}, (
        db_rows(arena.home, "SELECT id, account_id, location, sub_location, time_slot, status, "
                            "booking_reference FROM bookings"),
        db_rows(arena.home, "SELECT * FROM releases"), ours, out)
    assert local_hours(ours) == [11, 12, 13]
