"""Read models over SQLAlchemy: what the tables, the dashboard and the web pages show.

Plain records out (with the names a view needs: the target's name, the site profile for its
timezone); nothing here writes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from snipe.adapters.db.models import (
    Account,
    Booking,
    BookingLog,
    Lease,
    SlotAvailability,
    Strike,
    Target,
)
from snipe.adapters.db.repositories import booking_record, strike_record
from snipe.domain.records import BookingRecord, LogEntry, StrikeRecord
from snipe.domain.status import (
    ACTIVE_BOOKINGS,
    ATTEMPT_ACTIONS,
    UPCOMING_STRIKES,
    SlotHour,
    StrikeStatus,
)


class SqlViews:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- strikes ----------------------------------------------------------------------------

    def _strikes(self, query: Any) -> list[tuple[StrikeRecord, str]]:
        rows = self.session.scalars(query.options(joinedload(Strike.target))).all()
        return [(strike_record(s, s.target.name), s.target.site_profile) for s in rows]

    def strikes(self, states: tuple[str, ...] | None = None, limit: int = 200,
                target: str | None = None) -> list[tuple[StrikeRecord, str]]:
        query = select(Strike).order_by(Strike.scheduled_execution, Strike.priority).limit(limit)
        if states:
            query = query.where(Strike.status.in_(states))
        if target:
            query = query.join(Target).where(Target.name == target)
        return self._strikes(query)

    def upcoming(self, limit: int) -> list[tuple[StrikeRecord, str]]:
        return self.strikes(UPCOMING_STRIKES, limit)

    def recent(self, since: datetime, limit: int = 10) -> list[tuple[StrikeRecord, str]]:
        return self._strikes(
            select(Strike).where(Strike.status.notin_(UPCOMING_STRIKES),
                                 Strike.status != StrikeStatus.CANCELLED.value,
                                 Strike.executed_at >= since)
            .order_by(Strike.executed_at.desc()).limit(limit))

    def strike_counts(self, since: datetime | None) -> dict[str, int]:
        query = select(Strike.status, func.count()).where(Strike.executed_at.is_not(None))
        if since is not None:
            query = query.where(Strike.executed_at >= since)
        return dict(self.session.execute(query.group_by(Strike.status)).all())

    # -- bookings ---------------------------------------------------------------------------

    def bookings(self, active_only: bool = True, account: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 location: str | None = None, status: str | None = None,
                 ids: list[int] | None = None) -> list[tuple[BookingRecord, str]]:
        query = (select(Booking, Account.netid, Account.site_profile, Target.name)
                 .join(Account, Account.id == Booking.account_id)
                 .outerjoin(Target, Target.id == Booking.target_id)
                 .order_by(Booking.slot_start, Booking.id))
        if active_only and status is None:
            query = query.where(Booking.status.in_(ACTIVE_BOOKINGS))
        if status is not None:
            query = query.where(Booking.status == status)
        if account is not None:
            query = query.where(Account.netid == account)
        if since is not None:
            query = query.where(Booking.slot_start >= since)
        if until is not None:
            query = query.where(Booking.slot_start < until)
        if location is not None:
            query = query.where(Booking.location == location)
        if ids is not None:
            query = query.where(Booking.id.in_(ids))
        return [(booking_record(b, netid, name), site)
                for b, netid, site, name in self.session.execute(query).all()]

    def held_counts(self) -> dict[str, int]:
        rows = self.session.execute(
            select(Account.netid, func.count(Booking.id)).join(Booking)
            .where(Booking.status.in_(ACTIVE_BOOKINGS)).group_by(Account.netid)).all()
        return dict(rows)

    # -- the log ----------------------------------------------------------------------------

    def log(self, limit: int = 50, account: str | None = None,
            strike_id: int | None = None) -> list[LogEntry]:
        query = (select(BookingLog, Account.netid)
                 .outerjoin(Account, Account.id == BookingLog.account_id)
                 .order_by(BookingLog.timestamp.desc(), BookingLog.id.desc()).limit(limit))
        if account is not None:
            query = query.where(Account.netid == account)
        if strike_id is not None:
            query = query.where(BookingLog.strike_id == strike_id)
        return [LogEntry(r.action, r.booking_date, SlotHour.parse(r.time_slot), r.location,
                         r.sub_location, netid, r.error_message, r.execution_time_ms,
                         r.strike_id, r.timestamp, r.id)
                for r, netid in self.session.execute(query).all()]

    def attempts(self, since: datetime | None) -> list[tuple[str, str, str, float | None]]:
        """(account, location, action, ms) of every attempt's outcome."""
        query = (select(func.coalesce(Account.netid, "(deleted)"), BookingLog.location,
                        BookingLog.action, BookingLog.execution_time_ms)
                 .outerjoin(Account, Account.id == BookingLog.account_id)
                 .where(BookingLog.action.in_(ATTEMPT_ACTIONS)))
        if since is not None:
            query = query.where(BookingLog.timestamp >= since)
        return [tuple(r) for r in self.session.execute(query).all()]  # type: ignore[misc]

    def verdicts(self, since: datetime | None) -> dict[str, int]:
        query = select(Target.state, func.count()).group_by(Target.state)
        if since is not None:
            query = query.where(Target.updated_at >= since)
        return dict(self.session.execute(query).all())

    # -- slot lists seen --------------------------------------------------------------------

    def availability(self, first: date, last: date
                     ) -> list[tuple[str, str, str | None, date, int, bool, datetime]]:
        rows = self.session.scalars(select(SlotAvailability).where(
            SlotAvailability.booking_date.between(first, last))).all()
        return [(r.site_profile, r.location, r.sub_location, r.booking_date,
                 SlotHour.parse(r.time_slot).hour, r.is_available, r.last_checked) for r in rows]

    def availability_span(self) -> tuple[int, date | None, date | None]:
        """(slot rows kept, first day, last day) of the whole slot cache."""
        count, first, last = self.session.execute(select(
            func.count(), func.min(SlotAvailability.booking_date),
            func.max(SlotAvailability.booking_date))).one()
        return int(count), first, last

    def slot_rows(self, first: date, last: date
                  ) -> list[tuple[str, str, str | None, date, int, bool, int | None, datetime]]:
        """(site, location, sub, day, hour, available, remaining, checked) of every slot seen."""
        rows = self.session.scalars(select(SlotAvailability).where(
            SlotAvailability.booking_date.between(first, last))).all()
        return [(r.site_profile, r.location, r.sub_location, r.booking_date,
                 SlotHour.parse(r.time_slot).hour, r.is_available, r.remaining_capacity,
                 r.last_checked) for r in rows]

    # -- the daemon and the live feed ------------------------------------------------------

    def lease(self, name: str) -> tuple[str, datetime] | None:
        """Who holds the lease `name`, until when (None: nobody ever took it, or it was
        dropped)."""
        row = self.session.get(Lease, name)
        return None if row is None else (row.holder, row.expires_at)

    def log_after(self, last_id: int, limit: int = 200) -> list[LogEntry]:
        """Log rows newer than `last_id`, oldest first (what a live feed has not shown yet)."""
        query = (select(BookingLog, Account.netid)
                 .outerjoin(Account, Account.id == BookingLog.account_id)
                 .where(BookingLog.id > last_id).order_by(BookingLog.id).limit(limit))
        return [LogEntry(r.action, r.booking_date, SlotHour.parse(r.time_slot), r.location,
                         r.sub_location, netid, r.error_message, r.execution_time_ms,
                         r.strike_id, r.timestamp, r.id)
                for r, netid in self.session.execute(query).all()]

    def last_log_id(self) -> int:
        return int(self.session.scalar(select(func.max(BookingLog.id))) or 0)

    def strikes_changed(self, since: datetime) -> list[tuple[StrikeRecord, str]]:
        """Strikes fired (executed) at or after `since`."""
        return self._strikes(select(Strike).where(Strike.executed_at >= since)
                             .order_by(Strike.executed_at))

    def target_states(self) -> dict[int, tuple[str, str]]:
        """id -> (name, state) of every target."""
        return {i: (n, s) for i, n, s in self.session.execute(
            select(Target.id, Target.name, Target.state)).all()}
