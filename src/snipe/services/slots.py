"""Open slots on demand: the grid of days × hours per location and sub-location (free, taken,
ours, not open yet with its unlock instant), from what the slot lists last showed (the
`slot_availability` cache) and the bookings we hold; and a fresh read of the lists from the site
that respects the fair-use budget: a bounded number of requests per refresh, and a list read
again no sooner than a minimum interval, whichever process read it last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from snipe.adapters.sites.errors import LoginFailed, RateLimited
from snipe.adapters.sites.meter import BudgetSpent
from snipe.domain.site import Location, SiteProfile
from snipe.domain.slots import slot_start, unlock_instant
from snipe.domain.timefmt import iso_local, iso_utc
from snipe.errors import NotFoundError, PermanentError
from snipe.services.context import Context, quarantine
from snipe.services.ports import UnitOfWork
from snipe.services.watch.reading import cached, read_list

log = logging.getLogger(__name__)

REFRESH_BUDGET = 12  # requests one refresh may send (logins included)
MIN_REFRESH_S = 30.0  # a slot list is read from the site at most this often
MAX_DAYS = 14
FREE, TAKEN, OURS, TEAM, LOCKED, PAST, UNKNOWN = (
    "free", "taken", "ours", "team", "locked", "past", "unknown")


class BadSlotQuery(PermanentError):
    """A location or range of days the site does not have."""


@dataclass(frozen=True)
class SlotCell:
    """One sub-location at one hour of one day, as far as we know."""

    location: str
    sub_location: str | None
    day: date
    hour: int
    state: str  # free / taken / ours / team / locked / past / unknown
    start: datetime
    unlock_at: datetime
    remaining: int | None = None
    checked: datetime | None = None
    holder: str | None = None  # the account of ours that holds it
    booking_id: int | None = None

    def to_dict(self, profile: SiteProfile) -> dict[str, Any]:
        return {"location": self.location, "sub_location": self.sub_location,
                "day": self.day.isoformat(), "hour": self.hour, "state": self.state,
                "start": iso_local(self.start, profile.tz), "unlock_at": iso_utc(self.unlock_at),
                "remaining": self.remaining,
                "checked": None if self.checked is None else iso_utc(self.checked),
                "holder": self.holder, "booking_id": self.booking_id}


@dataclass
class SlotGrid:
    profile: SiteProfile
    now: datetime
    days: list[date]
    hours: list[int]
    rows: list[tuple[str, str | None]]  # (location, sub-location) in the profile's order
    cells: dict[tuple[str, str | None, date, int], SlotCell]
    account: str | None = None

    def cell(self, location: str, sub: str | None, day: date, hour: int) -> SlotCell:
        return self.cells[(location, sub, day, hour)]

    def open_slots(self) -> list[SlotCell]:
        return [c for c in self.cells.values() if c.state == FREE]

    def to_dict(self) -> dict[str, Any]:
        return {"site": self.profile.name, "now": iso_utc(self.now), "account": self.account,
                "days": [d.isoformat() for d in self.days], "hours": self.hours,
                "slots": [c.to_dict(self.profile) for c in self.cells.values()]}


def days_from(profile: SiteProfile, now: datetime, first: date | None, count: int) -> list[date]:
    if not 1 <= count <= MAX_DAYS:
        raise BadSlotQuery(f"days must be between 1 and {MAX_DAYS}, not {count}")
    today = now.astimezone(profile.tz).date()
    start = first or today
    return [start + timedelta(days=i) for i in range(count)]


def locations_of(profile: SiteProfile, location: str | None) -> list[Location]:
    bookable = [loc for loc in profile.locations if loc.bookable]
    if location is None:
        return bookable
    loc = profile.location(location)
    if loc is None or not loc.bookable:
        known = ", ".join(b.name for b in bookable)
        raise BadSlotQuery(f"unknown location {location!r} (known: {known})")
    return [loc]


def slot_grid(uow: UnitOfWork, profile: SiteProfile, now: datetime, days: list[date],
              location: str | None = None, account: str | None = None) -> SlotGrid:
    """Every slot of the `days` at the location(s): what we hold (ours: `account`'s, or any
    of ours when None; team: another of our accounts), what is not open yet, and what the last
    slot list read showed."""
    locations = locations_of(profile, location)
    hours = list(range(profile.first_start_hour, profile.last_end_hour))
    views = uow.views  # type: ignore[attr-defined]
    seen = {(loc, sub, day, hour): (available, remaining, checked)
            for site, loc, sub, day, hour, available, remaining, checked
            in views.slot_rows(days[0], days[-1]) if site == profile.name}
    held = {}
    for b, site in views.bookings(since=slot_start(days[0], hours[0], profile.tz)):
        if site == profile.name:
            held[(b.location, b.sub_location, b.day, b.hour.hour)] = b
    rows: list[tuple[str, str | None]] = []
    cells: dict[tuple[str, str | None, date, int], SlotCell] = {}
    for loc in locations:
        subs: list[str | None] = [s.name for s in loc.sub_locations] or [None]
        for sub in subs:
            rows.append((loc.name, sub))
            for day in days:
                for hour in hours:
                    key = (loc.name, sub, day, hour)
                    cells[key] = _cell(profile, loc, key, now, seen.get(key), held.get(key),
                                       account)
    return SlotGrid(profile, now, days, hours, rows, cells, account)


def _cell(profile: SiteProfile, loc: Location, key: tuple[str, str | None, date, int],
          now: datetime, seen: tuple[bool, int | None, datetime] | None, booking: Any,
          account: str | None) -> SlotCell:
    name, sub, day, hour = key
    start = slot_start(day, hour, profile.tz)
    unlock = unlock_instant(start, loc.window)
    remaining, checked = (seen[1], seen[2]) if seen else (None, None)
    if booking is not None:
        state = OURS if account in (None, booking.account) else TEAM
        return SlotCell(name, sub, day, hour, state, start, unlock, remaining, checked,
                        booking.account, booking.id)
    if start <= now:
        state = PAST
    elif now < unlock:
        state = LOCKED
    elif seen is None:
        state = UNKNOWN
    else:
        state = FREE if seen[0] else TAKEN
    return SlotCell(name, sub, day, hour, state, start, unlock, remaining, checked)


# -- reading the site ----------------------------------------------------------------------


@dataclass
class Refresh:
    """What one refresh read, skipped and sent."""

    location: str
    read: list[date] = field(default_factory=list)
    fresh: list[date] = field(default_factory=list)  # read by someone less than the interval ago
    skipped: list[date] = field(default_factory=list)  # the budget ran out first
    requests: int = 0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "read": [d.isoformat() for d in self.read],
                "fresh": [d.isoformat() for d in self.fresh],
                "skipped": [d.isoformat() for d in self.skipped], "requests": self.requests,
                "note": self.note}


def reading_accounts(ctx: Context, site: str | None = None) -> tuple[SiteProfile, list[str]]:
    """The site to read (the given one, else our first usable account's) and the accounts
    that may read its lists."""
    with ctx.reader() as uow:
        accounts = [a for a in uow.accounts.all() if a.usable]
    if site is not None:
        accounts = [a for a in accounts if a.site == site]
    if not accounts:
        raise PermanentError("no usable account to read the slot lists with; add one with "
                             "`snipe accounts add NETID`")
    first = accounts[0]
    same = [a.netid for a in accounts if (a.site, a.site_url) == (first.site, first.site_url)]
    return ctx.profiles(first.site, first.site_url), same


async def refresh_slots(ctx: Context, location: str, days: list[date], *,
                        site: str | None = None, budget: int = REFRESH_BUDGET,
                        min_interval_s: float = MIN_REFRESH_S) -> Refresh:
    """Read the location's slot lists for `days` from the site into the cache, day by day,
    within `budget` requests; a list read less than `min_interval_s` ago is not read again."""
    profile, accounts = reading_accounts(ctx, site)
    [loc] = locations_of(profile, location)
    now = ctx.clock.now()
    interval = timedelta(seconds=min_interval_s)
    last_reads: dict[tuple[str, str, date], datetime] = ctx.extras.setdefault("slot_reads", {})
    report = Refresh(loc.name)
    driver, meter = ctx.drivers.metered(profile)
    meter.reset(budget)
    try:
        for day in days:
            last = last_reads.get((profile.name, loc.name, day))
            if (last is not None and now - last < interval) or \
                    cached(ctx, profile, loc.name, day, now, interval) is not None:
                report.fresh.append(day)
                continue
            if meter.left < 1:
                report.skipped.append(day)
                continue
            last_reads[(profile.name, loc.name, day)] = now
            seen = await read_list(ctx, driver, profile, loc.name, day, tuple(accounts), now,
                                   lambda netid, exc: _refused(ctx, netid, exc))
            if seen is not None:
                report.read.append(day)
    except (RateLimited, BudgetSpent) as exc:
        report.note = f"stopped early: {exc}"
        report.skipped += [d for d in days if d not in report.read + report.fresh]
    finally:
        await driver.close()
        report.requests = meter.sent
    if report.skipped and not report.note:
        report.note = f"the budget of {budget} requests ran out; the other days next time"
    return report


def _refused(ctx: Context, netid: str, exc: LoginFailed) -> None:
    quarantine(ctx, netid, str(exc))


def site_profile(ctx: Context, site: str | None = None) -> SiteProfile:
    """The profile pages and listings show: the given site, else our first account's, else
    the default one."""
    with ctx.reader() as uow:
        accounts = uow.accounts.all()
    for a in accounts:
        if site is None or a.site == site:
            return ctx.profiles(a.site, a.site_url)
    if site is None:
        site = "x-tudelft"
    try:
        return ctx.profiles(site, None)
    except Exception as exc:  # an unknown profile name
        raise NotFoundError(f"no site profile {site!r}: {exc}") from None
