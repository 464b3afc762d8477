"""Read models: what `status`, the listings and the web pages show, as plain JSON-ready views.

Countdowns are by the site's clock as the daemon last measured it (its offset from ours is kept
in the store), so "in 2m 03s" means what the site will do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from snipe.domain.decision import Decision
from snipe.domain.records import BookingRecord, LogEntry, ReleaseRecord, StrikeRecord
from snipe.domain.status import StrikeStatus
from snipe.domain.timefmt import iso_local, iso_utc
from snipe.errors import NotFoundError, PermanentError, UsageError
from snipe.services.ports import UnitOfWork

SITE_TZ = "Europe/Amsterdam"


@cache
def tz_of(site: str) -> str:
    """The timezone of a site profile (an unknown one still lists, in the default zone)."""
    from snipe.profiles import load_profile

    try:
        return load_profile(site).timezone
    except Exception:
        return SITE_TZ


@dataclass(frozen=True)
class StrikeView:
    id: int | None
    target: str
    rank: int
    role: str
    location: str
    sub_locations: tuple[str, ...]
    accounts: tuple[str, ...]
    slot_start: datetime
    fire_at: datetime
    state: str
    timezone: str
    result: dict[str, Any] | None = None

    def countdown_s(self, now: datetime) -> float:
        return (self.fire_at - now).total_seconds()

    def to_dict(self, now: datetime) -> dict[str, Any]:
        tz = ZoneInfo(self.timezone)
        out: dict[str, Any] = {} if self.id is None else {"id": self.id}
        out.update(
            target=self.target, rank=self.rank, role=self.role, fire_at=iso_utc(self.fire_at),
            fire_at_local=iso_local(self.fire_at, tz),
            countdown_s=round(self.countdown_s(now), 1),
            slot_start=iso_local(self.slot_start, tz), location=self.location,
            sub_locations=list(self.sub_locations), accounts=list(self.accounts),
            state=self.state)
        if self.result is not None:
            out["result"] = self.result
        return out


def view_of(strike: Any, tz: str, state: str | None = None, target: str | None = None
            ) -> StrikeView:
    """A strike row (or a planned one) as a view."""
    sub_locations = getattr(strike, "sub_locations", ())
    status = state or getattr(strike, "status", StrikeStatus.SCHEDULED)
    return StrikeView(getattr(strike, "id", None), target or getattr(strike, "target", ""),
                      strike.rank, strike.role, strike.location, tuple(sub_locations),
                      tuple(strike.accounts), strike.slot_start, strike.fire_at,
                      str(getattr(status, "value", status)), tz,
                      getattr(strike, "result", None))


@dataclass(frozen=True)
class BookingView:
    id: int
    account: str
    location: str
    sub_location: str | None
    slot_start: datetime
    status: str
    reference: str | None
    target: str | None
    timezone: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "account": self.account, "location": self.location,
                "sub_location": self.sub_location,
                "slot_start": iso_local(self.slot_start, ZoneInfo(self.timezone)),
                "status": self.status, "reference": self.reference, "target": self.target}


def booking_view(b: BookingRecord, site: str) -> BookingView:
    return BookingView(b.id, b.account, b.location, b.sub_location, b.slot_start, b.status.value,
                       b.reference, b.target, tz_of(site))


@dataclass(frozen=True)
class TargetView:
    id: int
    name: str
    state: str
    block: str | None  # the block won (or held so far), in words
    next_wake: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "state": self.state, "block": self.block,
                "next_wake": None if self.next_wake is None else iso_utc(self.next_wake)}


def block_words(decision: dict[str, Any] | None) -> str | None:
    if not decision:
        return None
    made = Decision.from_dict(decision)
    kept = made.kept
    if kept is None:
        return None
    b = kept.block
    words = (f"{b.location} {b.day} {b.start_hour:02d}:00-{b.end_hour:02d}:00 "
             f"({', '.join(h.account for h in kept.bookings)})")
    old = made.upgraded_from
    if old is not None:
        words += (f"; upgraded {old.location} {old.start_hour:02d}:00-{old.end_hour:02d}:00 → "
                  f"{b.location} {b.start_hour:02d}:00-{b.end_hour:02d}:00")
    return words


@dataclass
class Status:
    now: datetime
    upcoming: list[StrikeView]
    recent: list[StrikeView]
    bookings: list[BookingView]
    targets: list[TargetView] = field(default_factory=list)
    releases_owed: list[ReleaseRecord] = field(default_factory=list)
    clock_offset_s: float = 0.0  # the site's clock minus ours, as last measured

    def to_dict(self) -> dict[str, Any]:
        site_now = self.now + timedelta(seconds=self.clock_offset_s)
        return {
            "now": iso_utc(self.now), "site_clock_offset_s": round(self.clock_offset_s, 3),
            "strikes": [s.to_dict(site_now) for s in self.upcoming],
            "recent": [s.to_dict(site_now) for s in self.recent],
            "bookings": [b.to_dict() for b in self.bookings],
            "targets": [t.to_dict() for t in self.targets],
            "releases_owed": [{"booking": r.where, "account": r.account, "reason": r.reason,
                               "tries": r.tries, "last_error": r.last_error}
                              for r in self.releases_owed],
        }


def _strike_views(rows: list[tuple[StrikeRecord, str]]) -> list[StrikeView]:
    return [view_of(s, tz_of(site)) for s, site in rows]


def status(uow: UnitOfWork, now: datetime, recent_days: int = 7, limit: int = 50) -> Status:
    views = uow.views  # type: ignore[attr-defined]
    upcoming = _strike_views(views.upcoming(limit))
    recent = _strike_views(views.recent(now - timedelta(days=recent_days)))
    held = [booking_view(b, site) for b, site in views.bookings()]
    targets = [TargetView(t.id, t.name, t.state.value, block_words(t.decision), t.next_wake)
               for t in uow.targets.with_plans(("active", "won", "failed"))]
    sites = {s for s in (t.site for t in uow.targets.with_plans(("active",)))}
    readings = [r for r in (uow.clocks.latest(s) for s in sites) if r is not None]
    offset = readings[0].offset_s if readings else 0.0
    return Status(now, upcoming, recent, held, targets, uow.releases.owed(), offset)


def list_strikes(uow: UnitOfWork, states: tuple[str, ...] | None = None, limit: int = 200,
                 target: str | None = None) -> list[StrikeView]:
    known = {s.value for s in StrikeStatus}
    unknown = [s for s in (states or ()) if s not in known]
    if unknown:
        raise UsageError(f"unknown strike state {unknown[0]!r} (known: "
                             f"{', '.join(sorted(known))})")
    return _strike_views(uow.views.strikes(states, limit, target))  # type: ignore[attr-defined]


def cancel_strike(uow: UnitOfWork, strike_id: int) -> StrikeView:
    """Cancel a waiting strike; it stays cancelled (the planner leaves its slot alone)."""
    strike = uow.strikes.get(strike_id)
    if strike is None:
        raise NotFoundError(f"no strike (job) with id {strike_id} (see `snipe jobs list`)")
    if strike.status != StrikeStatus.SCHEDULED:
        raise PermanentError(f"strike {strike_id} is {strike.status}; only scheduled ones "
                             "cancel")
    strike.status = StrikeStatus.CANCELLED
    uow.strikes.save(strike)
    target = uow.targets.get(strike.target_id) if strike.target_id else None
    tz = tz_of(target.site) if target else SITE_TZ
    return view_of(strike, tz, target=strike.target)


def list_bookings(uow: UnitOfWork, include_inactive: bool = False, **filters: Any
                  ) -> list[BookingView]:
    rows = uow.views.bookings(not include_inactive, **filters)  # type: ignore[attr-defined]
    return [booking_view(b, site) for b, site in rows]


def list_log(uow: UnitOfWork, limit: int = 50) -> list[LogEntry]:
    return uow.views.log(limit)  # type: ignore[attr-defined]


def utc_now_view(now: datetime) -> str:
    return iso_utc(now.astimezone(UTC))
