"""End-to-end fixtures: a sandbox whose clock runs fast between unlocks and at real speed around
each one, accounts logged in before the clock runs, and a bookings file aimed at its future.

Everything real (browser logins, process start-up, a busy CPU) happens either with the sandbox
clock at real speed, or in the real seconds the daemon's lead gives it before an unlock; no
outcome depends on how fast this machine is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from snipe.adapters.sites.timeline import Timeline
from snipe.bootstrap import bootstrap, close
from snipe.sandbox.testing import running_sandbox
from snipe.sandbox.variants import DEFAULT_VARIANT
from snipe.services.accounts import add_account, check_accounts
from snipe.services.context import Context
from snipe.services.targets.schedule import schedule_file
from snipe.settings import Settings

AMS = ZoneInfo("Europe/Amsterdam")
RATE = 3600.0  # between unlocks, an hour a real second
REAL_SPEED = ((-2.0, 2.5),)  # site seconds around each unlock that pass at real speed
LEAD_S = 3.0  # real seconds the engine wakes before a strike, its accounts logged in
FIRST_UNLOCK_IN_S = 4.0  # real seconds from the clock's start to the first unlock


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator:
    """The sandbox, playing the variant a test asks for (indirectly), else the default one."""
    variant = getattr(request, "param", DEFAULT_VARIANT)
    with running_sandbox(accounts=4, bots="hall-rush", seed=7, rate_limit=0,
                         real_speed=REAL_SPEED, variant=variant) as sb:
        yield sb


@dataclass
class Arena:
    sandbox: object
    ctx: Context
    home: Path
    day: date
    bookings: Path

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.ctx.extras["store"]

    def ours(self) -> list[dict]:
        return [b for b in self.sandbox.bookings() if b["by"] == "account"]

    @property
    def first_unlock(self) -> datetime:
        return first_unlock(self.day)

    def go(self, real_s: float = FIRST_UNLOCK_IN_S) -> None:
        """Run the clock fast from `real_s` real seconds before the first unlock."""
        start = Timeline(RATE, REAL_SPEED).site_after(self.first_unlock.timestamp(), -real_s)
        self.sandbox.set_clock(now=datetime.fromtimestamp(start, UTC), rate=RATE)

    def log_in(self, accounts: int) -> None:
        """Add the accounts and log them in, as `snipe accounts add` does at home."""
        netids = [f"user{n}" for n in range(1, accounts + 1)]

        async def go() -> dict[str, str]:
            try:
                for n, netid in enumerate(netids, start=1):
                    await add_account(self.ctx, netid, f"pass{n}", "sandbox",
                                      self.sandbox.base_url, check=False)
                return await check_accounts(self.ctx, netids)
            finally:
                await self.ctx.drivers.close()  # the browser goes; the sessions stay saved

        checks = asyncio.run(go())
        assert all(c.startswith("ok") for c in checks.values()), checks


def target_day() -> date:
    return (datetime.now(AMS) + timedelta(days=10)).date()


def first_unlock(day: date, hour: int = 11) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMS) - timedelta(hours=72)


@pytest.fixture
def arena(sandbox, home, tmp_path) -> Iterator[Arena]:
    """A fresh sandbox state, its clock at real speed two hours before the first X1 unlock."""
    sandbox.reset()
    day = target_day()
    sandbox.set_clock(now=first_unlock(day) - timedelta(hours=2), rate=1.0)
    ctx = bootstrap(Settings(home=home, lead_s=LEAD_S, monitor_interval_s=0))
    yield Arena(sandbox, ctx, home, day, tmp_path / "bookings.json")
    close(ctx)
    sandbox.set_clock(rate=1.0)


def write_target(arena: Arena, priorities: list[dict], accounts: int = 3, hours: int = 3,
                 window: tuple[str, str] = ("11:00", "14:00"),
                 go_in_s: float | None = FIRST_UNLOCK_IN_S) -> None:
    """Log the accounts in, start the fast clock (unless `go_in_s` is None), then schedule."""
    arena.log_in(accounts)
    if go_in_s is not None:
        arena.go(go_in_s)
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
    schedule_file(arena.ctx, arena.bookings, arena.ctx.clock.now())


def local_hours(bookings: list[dict]) -> list[int]:
    return sorted(datetime.fromisoformat(b["start"].replace("Z", "+00:00")).astimezone(AMS).hour
                  for b in bookings)
