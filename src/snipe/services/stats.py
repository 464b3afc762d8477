"""What the accounts achieved: success rates, execution times and blocks (`snipe stats`), and the
read model behind `snipe monitor`'s dashboard (strikes, attempts, bookings held, slot grid).

An attempt is a `booking_log` row whose action is `success` or `failure` (its outcome);
`execution_time_ms` is how long the site took to answer it.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from snipe.domain.records import LogEntry
from snipe.domain.status import ATTEMPT_ACTIONS
from snipe.domain.timefmt import iso_utc
from snipe.errors import UsageError
from snipe.services.ports import UnitOfWork
from snipe.services.queries import BookingView, Status, status

OUTCOMES = ATTEMPT_ACTIONS
SITE_TZ = ZoneInfo("Europe/Amsterdam")


class BadSince(UsageError):
    """`--since` is neither a date nor an instant."""


def parse_since(text: str, tz: ZoneInfo = SITE_TZ) -> datetime:
    """`2026-11-01` (midnight in the site's timezone) or an ISO-8601 instant with an offset."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=tz)
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadSince(f"--since {text!r} is not a date like 2026-11-01 or an instant like "
                       "2026-11-01T08:00Z") from None
    if instant.tzinfo is None:
        raise BadSince(f"--since {text!r} needs a UTC offset, e.g. 2026-11-01T08:00Z")
    return instant


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: a value that really occurred (no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class Rate:
    """Attempts of one account (or location, or all) and how they ended."""

    name: str
    attempts: int
    won: int
    median_ms: float | None
    p95_ms: float | None

    @property
    def failed(self) -> int:
        return self.attempts - self.won

    @property
    def success_rate(self) -> float | None:
        return self.won / self.attempts if self.attempts else None

    def to_dict(self) -> dict[str, Any]:
        rate = self.success_rate
        return {"name": self.name, "attempts": self.attempts, "won": self.won,
                "failed": self.failed, "success_rate": None if rate is None else round(rate, 4),
                "median_ms": _ms(self.median_ms), "p95_ms": _ms(self.p95_ms)}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _rate(name: str, rows: Iterable[tuple[str, float | None]]) -> Rate:
    rows = list(rows)
    times = [ms for _, ms in rows if ms is not None]
    return Rate(name, len(rows), sum(1 for action, _ in rows if action == "success"),
                statistics.median(times) if times else None, percentile(times, 0.95))


@dataclass
class Stats:
    since: datetime | None
    overall: Rate
    accounts: list[Rate]
    locations: list[Rate]
    blocks: dict[str, int]
    strikes: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else iso_utc(self.since),
            "overall": self.overall.to_dict(),
            "accounts": [r.to_dict() for r in self.accounts],
            "locations": [r.to_dict() for r in self.locations],
            "blocks": self.blocks,
            "strikes": self.strikes,
        }


def stats(uow: UnitOfWork, since: datetime | None = None) -> Stats:
    """Success rate per account and per location, median and p95 execution time, blocks won and
    failed (targets' verdicts) and strikes by state, from `since` on (everything when None)."""
    views = uow.views  # type: ignore[attr-defined]
    rows = views.attempts(since)
    verdicts = views.verdicts(since)
    fired = views.strike_counts(since)
    by_account: dict[str, list[tuple[str, float | None]]] = {}
    by_location: dict[str, list[tuple[str, float | None]]] = {}
    for netid, location, action, ms in rows:
        by_account.setdefault(netid, []).append((action, ms))
        by_location.setdefault(location, []).append((action, ms))
    return Stats(
        since,
        _rate("all", ((a, ms) for _, _, a, ms in rows)),
        [_rate(n, v) for n, v in sorted(by_account.items())],
        [_rate(n, v) for n, v in sorted(by_location.items())],
        {"won": verdicts.get("won", 0), "failed": verdicts.get("failed", 0),
         "in_progress": verdicts.get("active", 0)},
        dict(sorted(fired.items())),
    )


# -- the dashboard -----------------------------------------------------------------------------

FREE, TAKEN, OURS = "free", "taken", "ours"


@dataclass(frozen=True)
class GridRow:
    """One sub-location on one day: hour -> free / taken / ours (absent: not seen yet)."""

    location: str
    sub_location: str | None
    day: date
    cells: dict[int, str]

    @property
    def label(self) -> str:
        return f"{self.sub_location or self.location} {self.day:%a %d/%m}"


@dataclass
class Dashboard:
    now: datetime
    status: Status
    attempts: list[LogEntry]
    held: dict[str, list[BookingView]]
    grid: list[GridRow]
    hours: range
    checked: datetime | None = None  # when the freshest slot list was read
    notes: list[str] = field(default_factory=list)


def slot_grid(uow: UnitOfWork, now: datetime, days: int = 3, tz: ZoneInfo = SITE_TZ
              ) -> tuple[list[GridRow], datetime | None]:
    """Free / taken / ours per sub-location and hour for the coming `days`, from the slot
    availability cache and the bookings we hold."""
    today = now.astimezone(tz).date()
    last = today + timedelta(days=days - 1)
    views = uow.views  # type: ignore[attr-defined]
    seen = views.availability(today, last)
    ours = [b for b, _ in views.bookings() if today <= b.day <= last]
    rows: dict[tuple[str, str | None, date], dict[int, str]] = {}
    for _site, location, sub, day, hour, available, _checked in seen:
        rows.setdefault((location, sub, day), {})[hour] = FREE if available else TAKEN
    for b in ours:
        rows.setdefault((b.location, b.sub_location, b.day), {})[b.hour.hour] = OURS
    checked = max((r[6] for r in seen), default=None)
    grid = [GridRow(loc, sub, day, cells) for (loc, sub, day), cells in
            sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] or ""))]
    return grid, checked


def dashboard(uow: UnitOfWork, now: datetime, days: int = 3, attempts: int = 6) -> Dashboard:
    """Everything `snipe monitor` shows, read in one go."""
    current = status(uow, now, limit=5)
    recent = [e for e in uow.views.log(attempts * 3)  # type: ignore[attr-defined]
              if e.action in OUTCOMES][:attempts]
    held: dict[str, list[BookingView]] = {}
    for b in current.bookings:
        held.setdefault(b.account, []).append(b)
    grid, checked = slot_grid(uow, now, days)
    hours_seen = [h for row in grid for h in row.cells]
    hours = range(min([7, *hours_seen]), max([22, *hours_seen]) + 1)
    board = Dashboard(now, current, recent, held, grid, hours, checked)
    counts = Counter(cell for row in grid for cell in row.cells.values())
    if grid:
        board.notes.append(f"{counts[FREE]} free, {counts[TAKEN]} taken, {counts[OURS]} ours")
    else:
        kept, first, last = uow.views.availability_span()  # type: ignore[attr-defined]
        if kept:
            board.notes.append(f"{kept} slot(s) read for {first:%a %d %b}"
                               + (f" to {last:%a %d %b}" if last != first else "")
                               + f", none in the coming {days} day(s)")
    return board
