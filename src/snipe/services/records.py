"""Read and tidy what the store holds: strikes (jobs), bookings, the log, and `snipe status`.

SQLAlchemy and the ORM models are imported inside the functions that use them: `snipe status`
reads a SQLite store with the standard library instead (`status_from_file`), because importing
the ORM alone costs about 0.3 s on a small machine and status should answer in well under 0.5 s.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snipe.errors import NotFoundError, PermanentError
from snipe.services.views import BookingView, StrikeView, iso_utc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from snipe.adapters.db.models import Booking, Strike
    from snipe.adapters.db.store import Store

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
    from sqlalchemy.orm import joinedload

    from snipe.adapters.db.models import Strike

    rows = session.scalars(query.options(joinedload(Strike.target))).all()
    zones: dict[str, str] = {}
    return [
        strike_view(s, zones.setdefault(s.target.site_profile, _tz_of(s.target.site_profile)))
        for s in rows
    ]


def list_strikes(store: Store, states: tuple[str, ...] | None = None, limit: int = 200) -> list[StrikeView]:
    from sqlalchemy import select

    from snipe.adapters.db.models import Strike

    query = select(Strike).order_by(Strike.scheduled_execution, Strike.priority).limit(limit)
    if states:
        query = query.where(Strike.status.in_(states))
    with store.reading() as session:
        return _strikes(session, query)


def cancel_strike(store: Store, strike_id: int) -> StrikeView:
    from snipe.adapters.db.models import Strike

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
    from sqlalchemy.orm import joinedload

    from snipe.adapters.db.models import Booking
    from snipe.adapters.db.models import Target as TargetRow

    rows = session.execute(
        query.options(joinedload(Booking.account)).outerjoin(
            TargetRow, TargetRow.id == Booking.target_id
        ).add_columns(TargetRow.name)
    ).all()
    return [booking_view(b, name, _tz_of(b.account.site_profile)) for b, name in rows]


def list_bookings(store: Store, include_inactive: bool = False) -> list[BookingView]:
    from sqlalchemy import select

    from snipe.adapters.db.models import Booking

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
    from sqlalchemy import select

    from snipe.adapters.db.models import Account, BookingLog

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
    from sqlalchemy import select

    from snipe.adapters.db.models import Booking, Strike

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


# -- `snipe status` without SQLAlchemy ----------------------------------------------------------

_STRIKE_COLUMNS = """s.id, t.name, s.priority, s.role, s.location, s.sub_locations,
    s.assigned_accounts, s.slot_start, s.scheduled_execution, s.status, t.site_profile, s.result"""
_UPCOMING_SQL = f"""SELECT {_STRIKE_COLUMNS} FROM snipe_jobs s JOIN targets t ON t.id = s.target_id
    WHERE s.status IN ('scheduled', 'running')
    ORDER BY s.scheduled_execution, s.priority LIMIT ?"""
_RECENT_SQL = f"""SELECT {_STRIKE_COLUMNS} FROM snipe_jobs s JOIN targets t ON t.id = s.target_id
    WHERE s.status NOT IN ('scheduled', 'running') AND s.status != 'cancelled'
      AND s.executed_at >= ?
    ORDER BY s.executed_at DESC LIMIT 10"""
_BOOKINGS_SQL = """SELECT b.id, a.netid, b.location, b.sub_location, b.slot_start, b.status,
    b.booking_reference, t.name, a.site_profile
    FROM bookings b JOIN accounts a ON a.id = b.account_id
    LEFT OUTER JOIN targets t ON t.id = b.target_id
    WHERE b.status IN ('pending', 'confirmed') ORDER BY b.slot_start"""


def sqlite_file(db: str | None, home: Path | None = None) -> Path | None:
    """The SQLite file behind `--db` (the data dir's by default); None for other databases."""
    if not db:
        from snipe.adapters.paths import data_dir

        return (home or data_dir(create=False)) / "snipe.db"
    if "://" not in db:
        return Path(db).expanduser().resolve()
    prefix = "sqlite:///"
    if db.startswith(prefix) and "?" not in db and len(db) > len(prefix):
        name = db[len(prefix):]
        return None if name == ":memory:" else Path(name)
    return None


def _stored_time(value: str) -> datetime:
    """A UTC timestamp as the store keeps it in SQLite (naive ISO text)."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _stored_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def status_from_file(path: Path, now: datetime, recent_days: int = 7,
                     limit: int = 50) -> Status | None:
    """`status` for a SQLite store, read-only with the standard library's sqlite3.

    None when the file cannot answer this way (it does not exist yet, or its schema is not one
    these queries know): the caller then goes through the store, which creates or migrates it.
    """
    if not path.is_file():
        return None
    since = (now - timedelta(days=recent_days)).astimezone(UTC).replace(tzinfo=None)
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True,
                                                timeout=10)) as conn:
            upcoming = conn.execute(_UPCOMING_SQL, (limit,)).fetchall()
            recent = conn.execute(_RECENT_SQL, (since.isoformat(" "),)).fetchall()
            bookings = conn.execute(_BOOKINGS_SQL).fetchall()
    except sqlite3.Error:
        return None
    zones: dict[str, str] = {}

    def zone(profile: str) -> str:
        return zones.setdefault(profile, _tz_of(profile))

    def strike(r: tuple[Any, ...]) -> StrikeView:
        return StrikeView(r[0], r[1], r[2], r[3], r[4], tuple(_stored_json(r[5]) or ()),
                          tuple(_stored_json(r[6]) or ()), _stored_time(r[7]),
                          _stored_time(r[8]), r[9], zone(r[10]), _stored_json(r[11]))

    held = [BookingView(r[0], r[1], r[2], r[3], _stored_time(r[4]), r[5], r[6], r[7],
                        zone(r[8])) for r in bookings]
    return Status(now, [strike(r) for r in upcoming], [strike(r) for r in recent], held)
