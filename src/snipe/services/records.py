"""Read and tidy what the store holds: strikes (jobs), bookings, the log, and `snipe status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from snipe.adapters.db.models import Account, Booking, BookingLog, Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.db.store import Store
from snipe.errors import NotFoundError, PermanentError
from snipe.services.views import BookingView, StrikeView, iso_utc

SITE_TZ = "Europe/Amsterdam"
UPCOMING = ("scheduled", "running")
ACTIVE_BOOKINGS = ("pending", "confirmed")


def _tz_of(profile_name: str) -> str:
    from snipe.profiles import load_profile

    try:
        return load_profile(profile_name).timezone
    except Exception:  # an unknown profile still lists; its times show in the default zone
        return SITE_TZ


def strike_view(s: Strike, tz: str) -> StrikeView:
    return StrikeView(
        s.id, s.target.name, s.priority, s.role, s.location, tuple(s.sub_locations or ()),
        tuple(s.assigned_accounts or ()), s.slot_start, s.scheduled_execution, s.status, tz,
        s.result,
    )


def booking_view(b: Booking, target: str | None, tz: str) -> BookingView:
    return BookingView(
        b.id, b.account.netid, b.location, b.sub_location, b.slot_start, b.status,
        b.booking_reference, target, tz,
    )


def _strikes(session: Session, query: Any) -> list[StrikeView]:
    rows = session.scalars(query.options(joinedload(Strike.target))).all()
    zones: dict[str, str] = {}
    return [
        strike_view(s, zones.setdefault(s.target.site_profile, _tz_of(s.target.site_profile)))
        for s in rows
    ]


def list_strikes(store: Store, states: tuple[str, ...] | None = None, limit: int = 200) -> list[StrikeView]:
    query = select(Strike).order_by(Strike.scheduled_execution, Strike.priority).limit(limit)
    if states:
        query = query.where(Strike.status.in_(states))
    with store.reading() as session:
        return _strikes(session, query)


def cancel_strike(store: Store, strike_id: int) -> StrikeView:
    with store.unit_of_work() as uow:
        strike = uow.session.get(Strike, strike_id)
        if strike is None:
            raise NotFoundError(f"no strike (job) with id {strike_id} (see `snipe jobs list`)")
        if strike.status != "scheduled":
            raise PermanentError(f"strike {strike_id} is {strike.status}; only scheduled ones cancel")
        strike.status = "cancelled"
        view = strike_view(strike, _tz_of(strike.target.site_profile))
        uow.commit()
    return view


def _bookings(session: Session, query: Any) -> list[BookingView]:
    rows = session.execute(
        query.options(joinedload(Booking.account)).outerjoin(
            TargetRow, TargetRow.id == Booking.target_id
        ).add_columns(TargetRow.name)
    ).all()
    return [booking_view(b, name, _tz_of(b.account.site_profile)) for b, name in rows]


def list_bookings(store: Store, include_inactive: bool = False) -> list[BookingView]:
    query = select(Booking).order_by(Booking.slot_start, Booking.id)
    if not include_inactive:
        query = query.where(Booking.status.in_(ACTIVE_BOOKINGS))
    with store.reading() as session:
        return _bookings(session, query)


@dataclass(frozen=True)
class LogEntry:
    id: int
    timestamp: datetime
    account: str | None
    action: str
    location: str
    sub_location: str | None
    slot: str
    message: str | None
    execution_time_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": iso_utc(self.timestamp),
            "account": self.account,
            "action": self.action,
            "location": self.location,
            "sub_location": self.sub_location,
            "slot": self.slot,
            "message": self.message,
            "execution_time_ms": self.execution_time_ms,
        }


def list_log(store: Store, limit: int = 50) -> list[LogEntry]:
    query = (
        select(BookingLog, Account.netid)
        .outerjoin(Account, Account.id == BookingLog.account_id)
        .order_by(BookingLog.timestamp.desc(), BookingLog.id.desc())
        .limit(limit)
    )
    with store.reading() as session:
        rows = session.execute(query).all()
    return [
        LogEntry(r.id, r.timestamp, netid, r.action, r.location, r.sub_location,
                 f"{r.booking_date} {r.time_slot}", r.error_message, r.execution_time_ms)
        for r, netid in rows
    ]


@dataclass
class Status:
    now: datetime
    upcoming: list[StrikeView]
    recent: list[StrikeView]
    bookings: list[BookingView]

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": iso_utc(self.now),
            "strikes": [s.to_dict(self.now) for s in self.upcoming],
            "recent": [s.to_dict(self.now) for s in self.recent],
            "bookings": [b.to_dict() for b in self.bookings],
        }


def status(store: Store, now: datetime, recent_days: int = 7, limit: int = 50) -> Status:
    with store.reading() as session:
        upcoming = _strikes(
            session,
            select(Strike).where(Strike.status.in_(UPCOMING))
            .order_by(Strike.scheduled_execution, Strike.priority).limit(limit),
        )
        recent = _strikes(
            session,
            select(Strike)
            .where(Strike.status.notin_(UPCOMING), Strike.status != "cancelled",
                   Strike.executed_at >= now - timedelta(days=recent_days))
            .order_by(Strike.executed_at.desc()).limit(10),
        )
        bookings = _bookings(
            session,
            select(Booking).where(Booking.status.in_(ACTIVE_BOOKINGS))
            .order_by(Booking.slot_start),
        )
    return Status(now, upcoming, recent, bookings)
