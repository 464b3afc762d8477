"""The demo's vocabulary: its options, what the live view shows, what it ends with.

The demo (`run.py`): a throw-away data dir, the sandbox in this process on a free loopback port
with `hall-rush` bots, three accounts, and one target: a 3-hour X1 block at the bots' favourite
hours with X3 and Fitness as fallbacks, four days ahead. The accounts log in first (as `snipe
accounts check` does at home), then the sandbox's clock jumps to a few real seconds before the
first X1 unlock and runs fast between unlocks and at real speed around each one, so every hour of
the block comes within seconds while logins, bots and our shots keep their real durations. The
daemon's `run_once` then does what it does at home: Fitness insurance first (it unlocked days
ago), one strike per X1 unlock, releases of whatever the block no longer needs. A watcher gets a
`DemoSnapshot` a few times a second for a live view.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from snipe.adapters.clock import Clock
from snipe.adapters.sites.timeline import Timeline
from snipe.errors import PermanentError, UsageError

ACCOUNTS = 3
BLOCK_HOURS = (17, 18, 19)  # the bots want these most
PRIORITIES = ("X1", "X3", "Fitness")
LEAD_S = 4.0  # real seconds the engine wakes before a strike with its accounts logged in
FIRST_UNLOCK_IN_S = 6.0  # real seconds from the clock's jump to the first X1 unlock
REAL_SPEED = ((-3.0, 3.0),)  # site seconds around each unlock that pass at real speed
QUIET_S = 0.4  # no polling of the site this close (real seconds) to an unlock
POLL_S = 0.25
ENV_KEYS = ("SNIPE_HOME", "SNIPE_DB", "SNIPE_KEY_FILE")


class DemoFailed(PermanentError):
    """The demo ran but did not end with a won block."""


@dataclass(frozen=True)
class DemoOptions:
    rate: float = 1200.0  # sandbox seconds per real second between the unlocks
    seed: int = 1
    keep: bool = False
    within_s: float = 150.0  # the demo gives up after this many real seconds
    variant: str = "likely"  # which behaviour of the real site the sandbox plays

    def __post_init__(self) -> None:
        from snipe.sandbox.variants import BUNDLES

        if self.variant.strip().lower() not in BUNDLES:
            raise UsageError(f"--variant {self.variant!r} is not one the sandbox plays "
                             f"(known: {', '.join(BUNDLES)})")
        if not 60.0 <= self.rate <= 3600.0:
            raise UsageError(f"--rate must be between 60 and 3600 (sandbox seconds per real "
                              f"second), got {self.rate:g}")


@dataclass(frozen=True)
class SiteBooking:
    """A booking the sandbox holds on the demo's day (ours or a bot's)."""

    who: str
    by_bot: bool
    location: str
    sub_location: str | None
    hour: int

    def describe(self) -> str:
        return f"{self.sub_location or self.location} {self.hour:02d}:00 {self.who}"


@dataclass
class DemoSnapshot:
    """What the live view shows at one moment."""

    site_now: datetime
    next_unlock: datetime | None
    countdown_s: float | None  # real seconds until the next X1 unlock
    strikes: list[Any] = field(default_factory=list)  # engine StrikeReports, in firing order
    releases: list[Any] = field(default_factory=list)  # log entries (newest first)
    held: list[SiteBooking] = field(default_factory=list)
    done: bool = False


@dataclass
class DemoResult:
    verdict: str
    block: str | None
    blocks_won: int
    bookings_kept: int
    bookings_released: int
    attempts: int
    wins: int
    median_strike_ms: float | None
    median_late_ms: float | None
    bot_bookings: int
    elapsed_s: float
    data_dir: str | None
    snapshot: DemoSnapshot

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict, "block": self.block, "blocks_won": self.blocks_won,
            "bookings_kept": self.bookings_kept, "bookings_released": self.bookings_released,
            "attempts": self.attempts, "wins": self.wins,
            "median_strike_ms": self.median_strike_ms, "median_late_ms": self.median_late_ms,
            "bot_bookings": self.bot_bookings, "elapsed_s": self.elapsed_s,
            "data_dir": self.data_dir,
        }


@contextlib.contextmanager
def private_home(keep: bool) -> Iterator[Path]:
    """A fresh data dir as `SNIPE_HOME` for the block's duration; removed unless `keep`."""
    home = Path(tempfile.mkdtemp(prefix="snipe-demo-"))
    saved = {key: os.environ.get(key) for key in ENV_KEYS}
    os.environ["SNIPE_HOME"] = str(home)
    os.environ.pop("SNIPE_DB", None)
    os.environ.pop("SNIPE_KEY_FILE", None)
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def bookings_file(base_url: str, day: date) -> dict[str, Any]:
    """The demo's bookings.json: three sandbox accounts, one block with two fallbacks."""
    return {
        "site": {"profile": "sandbox", "base_url": base_url},
        "accounts": [{"netid": f"user{n}", "password": f"pass{n}"}
                     for n in range(1, ACCOUNTS + 1)],
        "snipe_config": {
            "name": "demo-x1-block", "target_date": day.isoformat(),
            "consecutive_hours": len(BLOCK_HOURS),
            "time_window": {"start": f"{BLOCK_HOURS[0]:02d}:00",
                            "end": f"{BLOCK_HOURS[-1] + 1:02d}:00"},
            "priorities": [{"rank": rank, "location": name, "max_accounts": ACCOUNTS}
                           for rank, name in enumerate(PRIORITIES, start=1)],
        },
    }


class SiteClock:
    """The sandbox's clock as the demo set it (no request needed to read it)."""

    def __init__(self, anchor: datetime, timeline: Timeline, clock: Clock) -> None:
        self.anchor = anchor
        self.timeline = timeline
        self.clock = clock
        self.real_anchor = clock.time()

    def now(self) -> datetime:
        site = self.timeline.site_after(self.anchor.timestamp(),
                                        self.clock.time() - self.real_anchor)
        return datetime.fromtimestamp(site, UTC)

    def real_seconds_until(self, instant: datetime) -> float:
        return self.timeline.real_span(self.now().timestamp(), instant.timestamp())


def site_bookings(state: dict[str, Any], day: date, tz: Any) -> list[SiteBooking]:
    held = []
    for b in state.get("bookings", []):
        start = datetime.fromisoformat(b["start"].replace("Z", "+00:00")).astimezone(tz)
        if start.date() == day:
            held.append(SiteBooking(b.get("bot") or b["account"], b["by"] == "bot",
                                    b["location"], b.get("sub_location"), start.hour))
    return sorted(held, key=lambda s: (s.hour, s.location, s.sub_location or ""))


def kept_block(ctx: Any) -> Any:
    """The block the demo's target ended with (the planner's verdict), or None."""
    from snipe.domain.decision import Decision

    with ctx.reader() as uow:
        targets = uow.targets.with_plans(("won", "failed", "active"))
    if not targets or not targets[0].decision:
        return None
    return Decision.from_dict(targets[0].decision).kept


def result_of(options: DemoOptions, home: Path, reports: list[Any], snapshot: DemoSnapshot,
            kept: Any, unlocks: list[datetime], elapsed_s: float) -> DemoResult:
    attempts = [a for s in snapshot.strikes for a in s.attempts]
    latencies = [a.latency_ms for a in attempts if a.latency_ms > 0]
    # Lateness against each slot's unlock instant, for the strikes fired at an unlock (the
    # insurance strike books a slot that has been open for days).
    lateness = [s.late_ms for s in snapshot.strikes
                if s.late_ms is not None and s.unlock is not None and s.unlock in unlocks]
    verdicts = {r.target_id: r.verdict for r in reports}
    won = sum(1 for v in verdicts.values() if v == "won")
    block = None
    if kept is not None:
        b = kept.block
        block = (f"{b.location} {b.start_hour:02d}:00-{b.end_hour:02d}:00 "
                 f"({', '.join(h.account for h in kept.bookings)})")
    return DemoResult(
        verdict="won" if won else (next(iter(verdicts.values()), "no strike")),
        block=block, blocks_won=won, bookings_kept=len(kept.bookings) if kept else 0,
        bookings_released=len(snapshot.releases), attempts=len(attempts),
        wins=sum(1 for a in attempts if a.result == "won"),
        median_strike_ms=round(statistics.median(latencies), 1) if latencies else None,
        median_late_ms=round(statistics.median(lateness), 3) if lateness else None,
        bot_bookings=sum(1 for b in snapshot.held if b.by_bot),
        elapsed_s=round(elapsed_s, 1),
        data_dir=str(home) if options.keep else None, snapshot=snapshot,
    )
