"""End-to-end fixtures: a sandbox on a fast clock and a bookings file aimed at its future."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from snipe.adapters.db.store import Store
from snipe.sandbox.testing import running_sandbox
from snipe.services.schedule import schedule_file

AMS = ZoneInfo("Europe/Amsterdam")
RATE = 1200.0  # one sandbox hour every three real seconds
LEAD_S = 4.0  # real seconds the engine wakes before a strike (logins, clock, connections)


@pytest.fixture(scope="module")
def sandbox() -> Iterator:
    with running_sandbox(accounts=4, bots="hall-rush", seed=7, rate_limit=0) as sb:
        yield sb


@dataclass
class Arena:
    sandbox: object
    store: Store
    home: Path
    day: date
    bookings: Path

    def ours(self) -> list[dict]:
        return [b for b in self.sandbox.bookings() if b["by"] == "account"]


def target_day() -> date:
    return (datetime.now(AMS) + timedelta(days=10)).date()


def first_unlock(day: date, hour: int = 11) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMS) - timedelta(hours=72)


@pytest.fixture
def arena(sandbox, home, tmp_path) -> Iterator[Arena]:
    """A fresh sandbox state, its clock a few real seconds before the first X1 unlock."""
    sandbox.reset()
    day = target_day()
    sandbox.set_clock(now=first_unlock(day) - timedelta(seconds=(LEAD_S + 5) * RATE), rate=RATE)
    store = Store.open(None)
    yield Arena(sandbox, store, home, day, tmp_path / "bookings.json")
    store.dispose()
    sandbox.set_clock(rate=1.0)


def write_target(arena: Arena, priorities: list[dict], accounts: int = 3, hours: int = 3,
                 window: tuple[str, str] = ("11:00", "14:00")) -> None:
    config = {
        "site": {"profile": "sandbox", "base_url": arena.sandbox.base_url},
        "accounts": [{"netid": f"user{i}", "password": f"pass{i}"}
                     for i in range(1, accounts + 1)],
        "snipe_config": {
            "name": "block", "target_date": arena.day.isoformat(), "consecutive_hours": hours,
            "time_window": {"start": window[0], "end": window[1]}, "priorities": priorities,
        },
    }
    arena.bookings.write_text(json.dumps(config))
    arena.bookings.chmod(0o600)
    schedule_file(arena.store, arena.bookings, datetime.now(UTC))


def local_hours(bookings: list[dict]) -> list[int]:
    return sorted(datetime.fromisoformat(b["start"].replace("Z", "+00:00")).astimezone(AMS).hour
                  for b in bookings)
