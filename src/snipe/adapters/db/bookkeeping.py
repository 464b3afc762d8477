"""The repositories of the store's bookkeeping over SQLAlchemy: the attempt log, releases owed,
the slot cache, site clock readings and the daemon's lease. Like the plan's repositories
(`repositories.py`), each works inside the unit of work's session and none commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from snipe.adapters.db.models import (
    BookingLog,
    Lease,
    Release,
    SiteClock,
    SlotAvailability,
)
from snipe.adapters.db.repositories import account_id_of
from snipe.domain.records import ClockReading, LogEntry, ReleaseRecord
from snipe.domain.status import SlotHour


class SqlAttempts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def forget_before(self, cutoff: datetime) -> int:
        return self.session.execute(
            delete(BookingLog).where(BookingLog.timestamp < cutoff)).rowcount or 0

    def add(self, entry: LogEntry) -> None:
        self.session.add(BookingLog(
            account_id=None if entry.account is None else account_id_of(self.session,
                                                                        entry.account),
            strike_id=entry.strike_id, action=entry.action, booking_date=entry.day,
            time_slot=str(entry.hour), location=entry.location,
            sub_location=entry.sub_location, error_message=entry.message,
            execution_time_ms=entry.elapsed_ms, timestamp=entry.at))


def _release_record(row: Release) -> ReleaseRecord:
    b = row.booking
    return ReleaseRecord(row.id, row.booking_id, b.account.netid, b.booking_reference or "",
                         row.reason, row.kind, row.tries, row.next_try_at, row.last_error,
                         b.target_id, f"{b.sub_location or b.location} {b.booking_date} "
                                      f"{b.time_slot}")


class SqlReleases:
    def __init__(self, session: Session) -> None:
        self.session = session

    def owe(self, booking_id: int, reason: str, kind: str, now: datetime) -> int:
        row = self.session.scalar(select(Release).where(Release.booking_id == booking_id))
        if row is None:
            row = Release(booking_id=booking_id, reason=reason, kind=kind, tries=0,
                          next_try_at=now)
            self.session.add(row)
        elif row.done_at is not None:  # held again (re-booked): owed again
            row.done_at, row.tries, row.next_try_at, row.reason = None, 0, now, reason
        self.session.flush()
        return row.id

    def due(self, now: datetime) -> list[ReleaseRecord]:
        return [_release_record(r) for r in self.session.scalars(
            select(Release).where(Release.done_at.is_(None), Release.next_try_at <= now)
            .order_by(Release.next_try_at, Release.id))]

    def owed(self) -> list[ReleaseRecord]:
        return [_release_record(r) for r in self.session.scalars(
            select(Release).where(Release.done_at.is_(None)).order_by(Release.id))]

    def done(self, release_id: int, now: datetime) -> None:
        row = self.session.get(Release, release_id)
        if row is not None:
            row.done_at = now
            row.tries += 1
            self.session.flush()

    def failed(self, release_id: int, error: str, next_try_at: datetime) -> None:
        row = self.session.get(Release, release_id)
        if row is not None:
            row.tries += 1
            row.last_error = error
            row.next_try_at = next_try_at
            self.session.flush()


class SqlSlotCache:
    def __init__(self, session: Session) -> None:
        self.session = session

    def forget_before(self, day: date) -> int:
        return self.session.execute(
            delete(SlotAvailability).where(SlotAvailability.booking_date < day)).rowcount or 0

    def seen(self, site: str, location: str, day: date, fresh_since: datetime
             ) -> list[tuple[int, str | None, bool, str | None]] | None:
        rows = self.session.scalars(select(SlotAvailability).where(
            SlotAvailability.site_profile == site, SlotAvailability.location == location,
            SlotAvailability.booking_date == day)).all()
        if not rows or min(r.last_checked for r in rows) < fresh_since:
            return None
        return [(SlotHour.parse(r.time_slot).hour, r.sub_location, r.is_available,
                 r.site_booking_id) for r in rows]

    def remember(self, site: str, location: str, day: date,
                 rows: Iterable[tuple[int, str | None, bool, int, int, str | None]],
                 now: datetime) -> None:
        for hour, sub, available, capacity, remaining, booking_id in rows:
            slot = str(SlotHour(hour))
            row = self.session.scalar(select(SlotAvailability).where(
                SlotAvailability.site_profile == site, SlotAvailability.location == location,
                SlotAvailability.booking_date == day, SlotAvailability.time_slot == slot,
                SlotAvailability.sub_location.is_(None) if sub is None
                else SlotAvailability.sub_location == sub))
            if row is None:
                row = SlotAvailability(site_profile=site, location=location, sub_location=sub,
                                       booking_date=day, time_slot=slot)
                self.session.add(row)
            row.is_available, row.total_capacity = available, capacity
            row.remaining_capacity, row.site_booking_id = remaining, booking_id
            row.last_checked = now
        self.session.flush()


class SqlSiteClocks:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, reading: ClockReading) -> None:
        row = self.session.get(SiteClock, reading.site) or SiteClock(site=reading.site)
        row.offset_s, row.uncertainty_s = reading.offset_s, reading.uncertainty_s
        row.measured_at = reading.measured_at
        self.session.add(row)
        self.session.flush()

    def latest(self, site: str) -> ClockReading | None:
        row = self.session.get(SiteClock, site)
        return None if row is None else ClockReading(row.site, row.offset_s, row.uncertainty_s,
                                                     row.measured_at)


class SqlLeases:
    def __init__(self, session: Session) -> None:
        self.session = session

    def take(self, name: str, holder: str, now: datetime, ttl_s: float,
             steal_from: str | None = None) -> str | None:
        """Take or renew the lease (or take it from `steal_from`, known dead); None when taken,
        else who holds it."""
        from datetime import timedelta

        row = self.session.get(Lease, name)
        if (row is not None and row.holder not in (holder, steal_from)
                and row.expires_at > now):
            return row.holder
        if row is None:
            row = Lease(name=name, holder=holder, expires_at=now)
            self.session.add(row)
        row.holder, row.expires_at = holder, now + timedelta(seconds=ttl_s)
        self.session.flush()
        return None

    def drop(self, name: str, holder: str) -> None:
        self.session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
